// The console shell. Every command lives here in kern/shell/, one file per
// area (vm_commands.cc: vmstat, memmap, swapinfo; ps.cc; task_shell.cc; ...),
// and reads the statistics its subsystem exports: the layers below never
// include this header. A command registers itself with
// SHELL_COMMAND(name, "usage", "help text") { ... }, which places a
// descriptor in the .shell_cmds section; the shell finds them all there.
#pragma once

#include <cstdint>

namespace kern::shell {

struct Command {
    const char* name;
    const char* usage;
    const char* help;
    // Returns 0 on success; a non-zero return prints the usage as a hint.
    int (*fn)(int argc, char** argv);
};

// Read, edit and run lines forever.
[[noreturn]] void run();
// Run one line as if typed (tests use it).
int execute(char* line);
// A command's decimal argument in [lo, hi] into out; false if it is not one.
[[nodiscard]] bool parse_number(const char* s, uint64_t lo, uint64_t hi, uint64_t& out);

} // namespace kern::shell

#define SHELL_COMMAND(name, usage, help)                                                            \
    static int shell_fn_##name(int argc, char** argv);                                              \
    [[gnu::used, gnu::section(".shell_cmds")]] static const kern::shell::Command shell_cmd_##name = { \
        #name, usage, help, shell_fn_##name};                                                       \
    static int shell_fn_##name([[maybe_unused]] int argc, [[maybe_unused]] char** argv)
