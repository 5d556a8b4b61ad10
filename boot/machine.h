// MachineInfo: what the kernel needs to know about the machine, read from the FDT.
//
// fdt::parse() validates the blob (lib/fdt.h) and fills a MachineInfo: memory,
// reservations and the usable RAM left after them, the harts, /chosen, and the
// few devices Zest drives (UARTs, PLIC, virtio-mmio, test finisher/syscon,
// SiFive SPI, CLINT). Everything lands in fixed-size arrays; when a list that
// matters would overflow, parse() fails with "too many X" instead of dropping
// entries. The one exception is harts: cpus past kMaxCpus are counted and
// named (ignored_runs), not read, and the machine boots on the others. The struct is large (a few KiB): keep it static, not on a boot stack.
//
// Addresses are the node's first reg entry, read with its parent's
// #address-cells/#size-cells (1 or 2), translated to CPU physical addresses
// through every ancestor bus's "ranges" (QEMU virt, sifive_u and the HiFive
// boards use an empty "ranges", i.e. 1:1).
#pragma once

#include "lib/fdt.h"
#include "lib/ranges.h"

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace fdt {

// Limits. QEMU virt allows more harts than kMaxCpus; Zest does not run on them.
inline constexpr size_t kMaxMemory = 8;     // /memory reg entries
inline constexpr size_t kMaxReserved = 32;  // memreserve + /reserved-memory + the blob
inline constexpr size_t kMaxUsable = 40;    // memory minus reserved
inline constexpr size_t kMaxCpus = 16;
inline constexpr size_t kMaxIgnoredRuns = 8; // runs of hart ids past kMaxCpus, for messages
inline constexpr uint32_t kNoHart = 0xffffffff;
inline constexpr size_t kMaxUarts = 4;
inline constexpr size_t kMaxVirtio = 16;    // QEMU virt has 8 slots
inline constexpr size_t kMaxSpi = 4;
inline constexpr size_t kIsaLen = 128;
inline constexpr size_t kBootargsLen = 256;
inline constexpr size_t kStdoutPathLen = 96;

enum class Mmu : uint8_t { None, Sv39, Sv48, Sv57 };

struct Cpu {
    uint32_t hart_id = 0;       // reg
    bool okay = false;          // status absent, "okay" or "ok"
    Mmu mmu = Mmu::None;        // from mmu-type; None for "riscv,none" or absent
    uint32_t intc_phandle = 0;  // its riscv,cpu-intc child; 0 if none
    uint64_t timebase_hz = 0;   // its own timebase-frequency, else /cpus's
    char isa[kIsaLen] = {};     // riscv,isa
    bool isa_truncated = false;

    // Sv48 and Sv57 harts implement Sv39 too.
    [[nodiscard]] bool has_sv39() const { return mmu != Mmu::None; }
};

// Harts first..last (hart ids), listed in the tree but not in cpus[].
struct HartRun {
    uint32_t first = 0, last = 0;
};

// Ns16550a: "ns16550a" or "ns16550"; SnpsDwApb: the DesignWare 8250, driven as
// an ns16550 with its reg-shift/reg-io-width.
enum class UartKind : uint8_t { Ns16550a, SifiveUart0, SnpsDwApb };

struct Uart {
    UartKind kind = UartKind::Ns16550a;
    uint64_t base = 0, size = 0; // base includes reg_offset
    uint32_t irq = 0;           // first cell of interrupts; 0 = none
    uint64_t clock_hz = 0;      // 0 = unknown (sifive: only from a fixed-clock)
    uint32_t reg_shift = 0;     // ns16550 family: register stride is 1 << reg_shift
    uint32_t reg_io_width = 1;  // ns16550 family: access width in bytes (1 or 4)
    uint32_t reg_offset = 0;    // ns16550 family: registers start this far into reg
    Node node;                  // for matching stdout-path
};

struct PlicHart {
    uint32_t hart_id = 0;
    uint32_t s_context = 0;     // context index whose cpu-intc interrupt is 9 (S external)
};

struct Plic {
    bool present = false;
    uint64_t base = 0, size = 0;
    uint32_t ndev = 0;          // riscv,ndev: sources 1..ndev
    uint32_t phandle = 0;
    uint32_t contexts = 0;      // entries in interrupts-extended
    PlicHart harts[kMaxCpus] = {};
    size_t nharts = 0;          // harts with an S-mode context
};

struct Mmio {
    uint64_t base = 0, size = 0;
    uint32_t irq = 0;
};

struct Spi {
    uint64_t base = 0, size = 0;
    uint32_t irq = 0;
    bool has_mmc_slot = false;  // an enabled "mmc-spi-slot" child (an SD card socket)
};

enum class FinisherKind : uint8_t { None, SifiveTest0, SifiveTest1, Syscon };

struct Finisher {
    FinisherKind kind = FinisherKind::None;
    uint64_t base = 0, size = 0;
};

// syscon-poweroff / syscon-reboot: write `value` (under `mask`) to regmap base + offset.
struct SysconAction {
    bool present = false;
    uint64_t regmap_base = 0;
    uint32_t offset = 0;
    uint32_t value = 0;
    uint32_t mask = 0xffffffff;

    [[nodiscard]] uint64_t address() const { return regmap_base + offset; }
};

struct MachineInfo {
    // The blob itself and what its header says.
    uint64_t fdt_phys = 0;
    uint32_t fdt_size = 0;      // totalsize
    uint32_t boot_cpuid = 0;    // header's boot_cpuid_phys (trust a0 over this)

    Range memory[kMaxMemory] = {};
    size_t nmemory = 0;
    Range reserved[kMaxReserved] = {};
    size_t nreserved = 0;
    Range usable[kMaxUsable] = {}; // memory - reserved, page-aligned inward, sorted
    size_t nusable = 0;

    uint64_t timebase_hz = 0;   // /cpus timebase-frequency, else the first cpu's
    Cpu cpus[kMaxCpus] = {};
    size_t ncpus = 0;
    size_t ncpus_ignored = 0;   // cpu nodes past kMaxCpus (not in cpus[])
    HartRun ignored_runs[kMaxIgnoredRuns] = {}; // their hart ids, in tree order
    size_t nignored_runs = 0;

    char bootargs[kBootargsLen] = {};
    bool bootargs_truncated = false;
    char stdout_path[kStdoutPathLen] = {};
    bool stdout_path_truncated = false;
    int stdout_uart = -1;       // index into uarts; -1 if there is no UART
    bool stdout_resolved = false; // stdout-path named that UART (else: first UART)

    Uart uarts[kMaxUarts] = {};
    size_t nuarts = 0;
    size_t nuarts_ignored = 0;  // ns16550-family UARTs with a reg-io-width Zest cannot drive
    Plic plic;
    Mmio virtio[kMaxVirtio] = {};
    size_t nvirtio = 0;
    Spi spi[kMaxSpi] = {};
    size_t nspi = 0;
    Finisher finisher;
    SysconAction poweroff;
    SysconAction reboot;
    bool has_clint = false;
    Range clint;

    ErrorText error;            // why parse() failed; empty on success
};
static_assert(std::is_trivially_copyable_v<MachineInfo>, "copied and reset as plain bytes");

// Validate the blob at `blob` (at most max_len bytes readable; loaded at physical
// address blob_phys) and fill `out`. boot_hart, if given, is kept in cpus[] even
// when the tree lists more than kMaxCpus harts before it. On failure returns Error::Corrupt (bad blob),
// Error::NoSpace (too many X) or Error::Unsupported (e.g. #address-cells 3), with
// out.error saying what and where; out's other fields are then unspecified.
[[nodiscard]] lib::Status parse(const void* blob, size_t max_len, uint64_t blob_phys,
                                MachineInfo& out, uint32_t boot_hart = kNoHart);

// Shrinks memory[i] to its first `size` bytes (removing it if size is 0) and
// recomputes usable[]: for RAM the tree claims but the machine does not have.
// Error::Invalid if i or size is out of range.
[[nodiscard]] lib::Status set_memory_size(MachineInfo& m, size_t i, uint64_t size);

// The PLIC S-mode context of a hart, or -1 if it has none.
[[nodiscard]] int plic_s_context(const MachineInfo& m, uint32_t hart_id);
// The cpus[] entry of a hart, or nullptr.
[[nodiscard]] const Cpu* find_cpu(const MachineInfo& m, uint32_t hart_id);

} // namespace fdt
