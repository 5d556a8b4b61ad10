#include "kern/shell/shell.h"

#include "kern/console/console.h"
#include "test/kernel/ktest.h"
#include "boot/platform.h"
#include "kern/arch/riscv/power.h"
#include "kern/console/printf.h"
#include "lib/string.h"

extern "C" const kern::shell::Command _shell_cmds_start[], _shell_cmds_end[];
extern "C" const ktest::Test _ktests_start[], _ktests_end[];

namespace kern::shell {
namespace {

constexpr int MAX_LINE = 128;
constexpr int MAX_ARGS = 16;

const Command* find(const char* name)
{
    for (const Command* c = _shell_cmds_start; c < _shell_cmds_end; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return nullptr;
}

// Read one line with echo and editing: backspace/DEL erase, ^U erases the
// line, ^C abandons it. Returns the length.
int read_line(char* buf)
{
    int n = 0;
    for (;;) {
        int c = console::getc();
        if (c == '\r' || c == '\n') {
            kprintf("\n");
            buf[n] = '\0';
            return n;
        }
        if (c == 0x7f || c == '\b') {
            if (n > 0) {
                n--;
                kprintf("\b \b");
            }
        } else if (c == 0x15) { // ^U
            while (n > 0) {
                n--;
                kprintf("\b \b");
            }
        } else if (c == 0x03) { // ^C
            kprintf("^C\n");
            buf[0] = '\0';
            return 0;
        } else if (c >= 0x20 && c < 0x7f) {
            if (n < MAX_LINE - 1) {
                buf[n++] = static_cast<char>(c);
                kprintf("%c", c);
            } else {
                kprintf("\a");
            }
        }
    }
}

} // namespace

int execute(char* line)
{
    char* argv[MAX_ARGS];
    int argc = 0;
    for (char* p = line; *p;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        if (argc == MAX_ARGS) {
            kprintf("error: too many arguments (at most %d)\n", MAX_ARGS - 1);
            return 1;
        }
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    if (argc == 0)
        return 0;
    const Command* c = find(argv[0]);
    if (!c) {
        kprintf("error: unknown command '%s'; type 'help' for the list\n", argv[0]);
        return 1;
    }
    int r = c->fn(argc, argv);
    if (r != 0)
        kprintf("usage: %s %s\n", c->name, c->usage);
    return r;
}

bool parse_number(const char* s, uint64_t lo, uint64_t hi, uint64_t& out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t d = uint64_t(*s - '0');
        if (d > hi || v > (hi - d) / 10) // v * 10 + d would pass hi
            return false;
        v = v * 10 + d;
    }
    if (v < lo)
        return false;
    out = v;
    return true;
}

void run()
{
    char line[MAX_LINE];
    for (;;) {
        kprintf("zest> ");
        read_line(line);
        execute(line);
    }
}

} // namespace kern::shell

SHELL_COMMAND(help, "[command]", "list commands, or describe one")
{
    using kern::shell::Command;
    if (argc > 2)
        return 1;
    if (argc == 2) {
        for (const Command* c = _shell_cmds_start; c < _shell_cmds_end; c++) {
            if (strcmp(c->name, argv[1]) == 0) {
                kprintf("%s %s\n  %s\n", c->name, c->usage, c->help);
                return 0;
            }
        }
        kprintf("error: no command '%s'; type 'help' for the list\n", argv[1]);
        return 0;
    }
    // Alphabetical: commands register from many files in link order.
    const char* last = "";
    for (;;) {
        const Command* next = nullptr;
        for (const Command* c = _shell_cmds_start; c < _shell_cmds_end; c++)
            if (strcmp(c->name, last) > 0 && (!next || strcmp(c->name, next->name) < 0))
                next = c;
        if (!next)
            return 0;
        kprintf("  %-10s %-18s %s\n", next->name, next->usage, next->help);
        last = next->name;
    }
}

SHELL_COMMAND(info, "", "harts, memory map, devices and timebase")
{
    if (argc != 1)
        return 1;
    kern::platform::print_summary();
    return 0;
}

SHELL_COMMAND(poweroff, "", "power the machine off")
{
    if (argc != 1)
        return 1;
    kprintf("powering off\n");
    kern::power::poweroff();
    return 0; // still here: the message said why
}

SHELL_COMMAND(reboot, "", "reboot the machine")
{
    if (argc != 1)
        return 1;
    kprintf("rebooting\n");
    kern::power::reboot();
    return 0;
}

SHELL_COMMAND(ktest, "[pattern]", "list kernel tests, or run those matching (all, name, prefix*)")
{
    if (argc > 2)
        return 1;
    if (argc == 1) {
        for (const ktest::Test* t = _ktests_start; t < _ktests_end; t++)
            kprintf("  %s%s\n", t->name, t->explicit_only ? "  (explicit only)" : "");
        return 0;
    }
    (void)ktest::run(argv[1]);
    return 0;
}
