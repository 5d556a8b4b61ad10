// Kernel printf, declared in the seam (kern/seam/printf.h) so that
// hardware-free code can print too; kern/console/printf.cc implements it.
#pragma once

#include "kern/seam/printf.h"
