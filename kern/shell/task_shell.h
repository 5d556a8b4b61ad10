// The task table for the shell's ps (kern/shell/task_shell.cc).
#pragma once

namespace kern::task_shell {
void print_tasks();
}
