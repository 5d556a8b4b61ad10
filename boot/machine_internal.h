// Shared by the files that build MachineInfo from a validated FDT: the parse
// state and the reg/ranges/compatible readers (boot/machine_reg.cc), and the
// walks each file exports to parse() (boot/machine.cc). Not part of the API.
//
//   boot/machine.cc          parse(): memory, reservations, cpus, chosen
//   boot/machine_devices.cc  the device walk: PLIC, virtio, SPI, finishers, CLINT, interrupts
//   boot/machine_console.cc  UARTs and stdout-path
//   boot/machine_reg.cc      reg entries, bus cells, ranges translation
#pragma once

#include "boot/machine.h"

#include "lib/string.h"

namespace fdt::mach {

inline bool streq(const char* a, const char* b) { return strcmp(a, b) == 0; }

// Everything parse() works on, so helpers take one argument for it.
struct Parser {
    const Blob& b;
    MachineInfo& m;
    uint32_t boot_hart = kNoHart; // kept in cpus[] even past kMaxCpus

    // Starts an error message in m.error; the caller appends the rest.
    MsgWriter msg() { return MsgWriter(m.error); }
    // Appends n's full path to a message.
    MsgWriter& path(MsgWriter& w, Node n)
    {
        char buf[96];
        b.path(n, buf, sizeof buf);
        return w.str(buf);
    }
};

struct Cells {
    uint32_t addr = 2;
    uint32_t size = 1;
};

// The #address-cells/#size-cells that apply to the children of `bus`.
// The #address-cells/#size-cells that apply to the children of `bus`.
[[nodiscard]] lib::Status bus_cells(Parser& p, Node bus, Cells& c);
// Number of reg entries of n (0 if it has no reg); an error if reg is malformed.
[[nodiscard]] lib::Status reg_count(Parser& p, Node n, const Cells& c, uint32_t& count);
// reg entry i of n (which reg_count() has checked).
[[nodiscard]] Range reg_entry(Parser& p, Node n, const Cells& c, uint32_t i);
// An address on `bus` as a CPU physical address, through every ancestor's "ranges".
[[nodiscard]] lib::Status translate(Parser& p, Node bus, Node dev, uint64_t& addr);
// The first reg entry of a device n whose parent is `bus`; an error if it has none.
[[nodiscard]] lib::Status device_reg(Parser& p, Node bus, Node n, const char* what, Range& r);
[[nodiscard]] lib::Status too_many(Parser& p, const char* what, size_t limit, Node n);
// Appends every reg entry of n (child of `bus`) to list[0..n), e.g. memory banks.
[[nodiscard]] lib::Status add_regs(Parser& p, Node bus, Node n, Range* list, size_t& count, size_t cap,
                                   const char* what);
// Copies a string property into buf, cut at the first NUL or the property's end.
void copy_string(const Property& prop, char* buf, size_t cap, bool& truncated);
[[nodiscard]] bool has_compat(const Blob& b, Node n, const char* s);

// The device's first interrupt (boot/machine_devices.cc); 0 if none.
[[nodiscard]] uint32_t first_irq(const Blob& b, Node n);
// Visits every enabled node below `bus` (boot/machine_devices.cc).
[[nodiscard]] lib::Status walk_devices(Parser& p, Node bus);
// One UART node (boot/machine_console.cc).
[[nodiscard]] lib::Status parse_uart(Parser& p, Node bus, Node n, UartKind kind);
// Points m.stdout_uart at the UART /chosen names (boot/machine_console.cc).
void resolve_stdout(Parser& p);

} // namespace fdt::mach
