// What host tests see of the kernel: panic() throws this, so a test can check
// that corruption is detected (CHECK_THROWS_AS(..., HostPanic)).
#pragma once

#include <string>

struct HostPanic {
    std::string message;
};
