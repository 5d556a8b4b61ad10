#include "dev/sdcard_spi.h"

#include "boot/machine.h"
#include "boot/platform.h"
#include "kern/console/printf.h"
#include "kern/arch/riscv/timer.h"
#include "lib/format.h"
#include "lib/string.h"
#include "vm/kmem.h"

#include <cstdarg>
#include <new>

namespace dev {
namespace {

constexpr uint32_t SECTOR = 512;

// Commands (SD Physical Layer Simplified Specification, SPI mode).
constexpr uint8_t CMD_GO_IDLE = 0;
constexpr uint8_t CMD_SEND_IF_COND = 8;
constexpr uint8_t CMD_SEND_CSD = 9;
constexpr uint8_t CMD_SET_BLOCKLEN = 16;
constexpr uint8_t CMD_READ_SINGLE = 17;
constexpr uint8_t CMD_WRITE_SINGLE = 24;
constexpr uint8_t CMD_APP = 55;
constexpr uint8_t CMD_READ_OCR = 58;
constexpr uint8_t ACMD_SEND_OP_COND = 41;

// R1 bits.
constexpr uint8_t R1_IDLE = 0x01;
constexpr uint8_t R1_ILLEGAL = 0x04;
constexpr uint8_t R1_NONE = 0xff; // no response within Ncr

// Data tokens.
constexpr uint8_t TOKEN_START = 0xfe;
constexpr uint8_t DATA_RESP_MASK = 0x1f;
constexpr uint8_t DATA_ACCEPTED = 0x05;
constexpr uint8_t DATA_CRC_ERROR = 0x0b;
constexpr uint8_t DATA_WRITE_ERROR = 0x0d;

constexpr uint32_t IF_COND_ARG = 0x1aa; // 2.7-3.6 V, check pattern 0xaa
constexpr uint32_t ACMD41_HCS = 1u << 30;
constexpr uint32_t OCR_POWERED_UP = 1u << 31;
constexpr uint32_t OCR_CCS = 1u << 30;

// Timeouts (the specification's limits, with margin).
constexpr uint64_t INIT_TIMEOUT_US = 1000000;  // ACMD41: 1 s
constexpr uint64_t READ_TIMEOUT_US = 200000;   // data token: 100 ms
constexpr uint64_t WRITE_TIMEOUT_US = 600000;  // busy after a block: 250-500 ms
constexpr uint64_t READY_TIMEOUT_US = 600000;  // card busy before a command
constexpr unsigned NCR_BYTES = 16;             // R1 within 8 bytes; some cards take more

// sckdiv: f_sck = f_in / (2 (div + 1)). tlclk is 500 MHz on the FU540 (less
// on the FU740): 624 gives 400 kHz or less for identification, 9 gives
// 25 MHz or less (default speed) afterwards.
constexpr uint32_t DIV_IDENT = 624;
constexpr uint32_t DIV_FAST = 9;

// CRC7 (x^7 + x^3 + 1) over a command's first five bytes.
constexpr uint8_t crc7(const uint8_t* p, unsigned n)
{
    uint8_t crc = 0;
    for (unsigned i = 0; i < n; i++)
        for (int b = 7; b >= 0; b--) {
            unsigned in = (p[i] >> b) & 1;
            unsigned top = (crc >> 6) & 1;
            crc = uint8_t((crc << 1) & 0x7f);
            if (in ^ top)
                crc ^= 0x09;
        }
    return crc;
}
constexpr uint8_t kCmd0[5] = {0x40, 0, 0, 0, 0};
constexpr uint8_t kCmd8[5] = {0x48, 0, 0, 0x01, 0xaa};
static_assert(((crc7(kCmd0, 5) << 1) | 1) == 0x95, "CMD0's well-known CRC byte");
static_assert(((crc7(kCmd8, 5) << 1) | 1) == 0x87, "CMD8 0x1AA's well-known CRC byte");

// CSD bits [hi:lo] (bit 127 is the first byte's top bit).
uint32_t csd_bits(const uint8_t* csd, unsigned hi, unsigned lo)
{
    uint32_t v = 0;
    for (unsigned i = hi + 1; i-- > lo;)
        v = (v << 1) | ((csd[15 - i / 8] >> (i % 8)) & 1);
    return v;
}

} // namespace

lib::Status SdCardSpi::fail(const char* fmt, ...)
{
    kprintf("sdcard %s (%s): ", name_, where_);
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    return lib::Error::IO;
}

uint8_t SdCardSpi::xfer(uint8_t out)
{
    if (spi_stuck_)
        return 0xff;
    uint8_t in = 0xff;
    if (!spi_.transfer(out, in)) {
        spi_stuck_ = true;
        kprintf("sdcard %s (%s): the SPI controller stopped moving bytes (FIFO timeout)\n", name_, where_);
        return 0xff;
    }
    return in;
}

bool SdCardSpi::wait_ready(uint64_t timeout_us)
{
    uint64_t start = kern::timer::now_us();
    for (;;) {
        if (xfer(0xff) == 0xff)
            return !spi_stuck_;
        if (kern::timer::now_us() - start > timeout_us)
            return false;
    }
}

// Select the card, send a command frame and return its R1 (R1_NONE if none
// came). The card stays selected: the caller reads the rest and calls end().
uint8_t SdCardSpi::command(uint8_t cmd, uint32_t arg)
{
    spi_.select();
    if (cmd != CMD_GO_IDLE && !wait_ready(READY_TIMEOUT_US))
        return R1_NONE;
    uint8_t f[6] = {uint8_t(0x40 | cmd), uint8_t(arg >> 24), uint8_t(arg >> 16), uint8_t(arg >> 8), uint8_t(arg), 0};
    f[5] = uint8_t((crc7(f, 5) << 1) | 1);
    for (uint8_t b : f)
        (void)xfer(b);
    for (unsigned i = 0; i < NCR_BYTES; i++) {
        uint8_t r = xfer(0xff);
        if (!(r & 0x80))
            return r;
    }
    return R1_NONE;
}

// One more byte of clocks with the card selected (it releases its data
// output on it), then deselect.
void SdCardSpi::end()
{
    (void)xfer(0xff);
    spi_.deselect();
}

// After an R1 of 0: wait for the start token, take len bytes and the CRC16.
bool SdCardSpi::read_data(uint8_t* buf, unsigned len, const char* what)
{
    uint64_t start = kern::timer::now_us();
    uint8_t t;
    for (;;) {
        t = xfer(0xff);
        if (t != 0xff || spi_stuck_)
            break;
        if (kern::timer::now_us() - start > READ_TIMEOUT_US) {
            (void)fail("%s: no data token within %lu ms", what, READ_TIMEOUT_US / 1000);
            return false;
        }
    }
    if (spi_stuck_)
        return false;
    if (t != TOKEN_START) {
        if ((t & 0xf0) == 0)
            (void)fail("%s: data error token 0x%02x (%s%s%s%s)", what, t, t & 1 ? "error " : "",
                       t & 2 ? "card-controller-error " : "", t & 4 ? "ecc-failed " : "",
                       t & 8 ? "out-of-range" : "");
        else
            (void)fail("%s: expected data token 0xfe, got 0x%02x", what, t);
        return false;
    }
    for (unsigned i = 0; i < len; i++)
        buf[i] = xfer(0xff);
    (void)xfer(0xff); // CRC16, not checked: CRC is off in SPI mode
    (void)xfer(0xff);
    return !spi_stuck_;
}

lib::Status SdCardSpi::read_block(uint64_t sector, uint8_t* buf)
{
    uint32_t addr = uint32_t(high_capacity_ ? sector : sector * SECTOR);
    char what[48];
    ksnprintf(what, sizeof what, "CMD17 (read sector %lu)", sector);
    uint8_t r = command(CMD_READ_SINGLE, addr);
    if (r != 0) {
        end();
        return r == R1_NONE ? fail("%s: no response", what) : fail("%s: R1 0x%02x", what, r);
    }
    bool ok = read_data(buf, SECTOR, what);
    end();
    return ok ? lib::Status() : lib::Status(lib::Error::IO);
}

lib::Status SdCardSpi::write_block(uint64_t sector, const uint8_t* buf)
{
    uint32_t addr = uint32_t(high_capacity_ ? sector : sector * SECTOR);
    uint8_t r = command(CMD_WRITE_SINGLE, addr);
    if (r != 0) {
        end();
        return r == R1_NONE ? fail("CMD24 (write sector %lu): no response", sector)
                            : fail("CMD24 (write sector %lu): R1 0x%02x", sector, r);
    }
    (void)xfer(0xff); // Nwr: at least one byte before the token
    (void)xfer(TOKEN_START);
    for (unsigned i = 0; i < SECTOR; i++)
        (void)xfer(buf[i]);
    (void)xfer(0xff); // CRC16: ignored in SPI mode
    uint8_t resp = xfer(0xff);
    for (unsigned i = 0; i < NCR_BYTES && (resp == 0xff || (resp & 0x11) != 0x01) && !spi_stuck_; i++)
        resp = xfer(0xff);
    if (spi_stuck_) {
        spi_.deselect();
        return lib::Error::IO;
    }
    if ((resp & DATA_RESP_MASK) != DATA_ACCEPTED) {
        uint8_t code = resp & DATA_RESP_MASK;
        (void)wait_ready(WRITE_TIMEOUT_US);
        end();
        return fail("CMD24 (write sector %lu): data %s (response 0x%02x)", sector,
                    code == DATA_CRC_ERROR     ? "rejected for a CRC error"
                    : code == DATA_WRITE_ERROR ? "rejected: write error"
                    : resp == 0xff             ? "response missing"
                                               : "response malformed",
                    resp);
    }
    bool ready = wait_ready(WRITE_TIMEOUT_US);
    end();
    if (!ready)
        return fail("CMD24 (write sector %lu): card still busy after %lu ms", sector, WRITE_TIMEOUT_US / 1000);
    return {};
}

namespace {

// Every page of the request's data is mapped (the copy loops would otherwise
// take a kernel page fault).
bool data_mapped(const BlockRequest& req)
{
    return for_each_piece(req, [](const void* buf, uint64_t bytes) {
        auto va = reinterpret_cast<uintptr_t>(buf);
        for (uintptr_t p = va & ~(PAGE_SIZE - 1); p < va + bytes; p += PAGE_SIZE)
            if (vm::kmem::virt_to_phys(reinterpret_cast<const void*>(p)) == 0)
                return false;
        return true;
    });
}

} // namespace

lib::Status SdCardSpi::submit(BlockRequest& req)
{
    lib::Error bad = lib::Error::None;
    if (req.op == BlockOp::Read || req.op == BlockOp::Write) {
        if (!data_shape_ok(req) || req.sector >= sectors_ || req.nsectors > sectors_ - req.sector)
            bad = lib::Error::Invalid;
        else if (!data_mapped(req))
            bad = lib::Error::Fault;
    } else if (req.op != BlockOp::Flush) {
        bad = lib::Error::Invalid;
    }
    if (bad != lib::Error::None) {
        ksync::MutexGuard g(lock_);
        st_.refused++;
        return bad;
    }
    lib::Status s;
    {
        ksync::MutexGuard g(lock_);
        st_.requests++;
        // Flush: a single-block write is on the card once its busy time ends.
        uint64_t sector = req.sector;
        if (req.op != BlockOp::Flush)
            (void)for_each_piece(req, [&](void* buf, uint64_t bytes) {
                auto* p = static_cast<uint8_t*>(buf);
                for (uint64_t off = 0; off < bytes; off += SECTOR, sector++) {
                    if (spi_stuck_) {
                        s = lib::Error::IO;
                        return false;
                    }
                    if (req.op == BlockOp::Read) {
                        s = read_block(sector, p + off);
                        if (s.ok())
                            st_.sectors_read++;
                    } else {
                        s = write_block(sector, p + off);
                        if (s.ok())
                            st_.sectors_written++;
                    }
                    if (!s.ok())
                        return false;
                }
                return true;
            });
        if (!s.ok())
            st_.errors++;
    }
    req.done(&req, s, req.ctx);
    return {};
}

SdCardStats SdCardSpi::stats()
{
    ksync::MutexGuard g(lock_);
    return st_;
}

lib::Status SdCardSpi::init(uintptr_t base, unsigned irq, unsigned index)
{
    ksnprintf(name_, sizeof name_, "mmcblk%u", index);
    ksnprintf(where_, sizeof where_, "spi@%lx", base);
    spi_.init(base, false);
    spi_.set_divider(DIV_IDENT);

    // Power-up: at least 74 clocks with CS high.
    spi_.cs_released();
    for (unsigned i = 0; i < 10; i++)
        (void)xfer(0xff);
    spi_.deselect();
    if (spi_stuck_)
        return lib::Error::IO;

    uint8_t r = R1_NONE;
    for (unsigned tries = 0; tries < 10 && r != R1_IDLE; tries++) {
        r = command(CMD_GO_IDLE, 0);
        end();
    }
    if (spi_stuck_)
        return lib::Error::IO;
    if (r != R1_IDLE)
        return lib::Error::NotFound;

    // CMD8: version 2 cards echo the voltage range and check pattern.
    bool v2 = false;
    r = command(CMD_SEND_IF_COND, IF_COND_ARG);
    if (r == R1_NONE) {
        end();
        return fail("CMD8: no response");
    }
    if (!(r & R1_ILLEGAL)) {
        uint8_t b[4];
        for (auto& x : b)
            x = xfer(0xff);
        end();
        if ((b[2] & 0x0f) != 0x01 || b[3] != 0xaa)
            return fail("CMD8: echo %02x %02x (expected 01 aa): card does not take 2.7-3.6 V", b[2], b[3]);
        v2 = true;
    } else {
        end();
    }

    // ACMD41 until the card leaves the idle state.
    uint64_t start = kern::timer::now_us();
    for (;;) {
        r = command(CMD_APP, 0);
        end();
        if (r == R1_NONE || (r & ~R1_IDLE))
            return fail("CMD55: %s 0x%02x", r == R1_NONE ? "no response" : "R1", r);
        r = command(ACMD_SEND_OP_COND, v2 ? ACMD41_HCS : 0);
        end();
        if (r == 0)
            break;
        if (r != R1_IDLE)
            return fail("ACMD41: %s 0x%02x", r == R1_NONE ? "no response" : "R1", r);
        if (kern::timer::now_us() - start > INIT_TIMEOUT_US)
            return fail("ACMD41: card still idle after %lu ms", INIT_TIMEOUT_US / 1000);
        kern::timer::delay_us(1000);
    }

    // CMD58: the OCR; CCS (valid once powered up) says block addressing.
    r = command(CMD_READ_OCR, 0);
    if (r == R1_NONE || (r & ~R1_IDLE)) {
        end();
        return fail("CMD58: %s 0x%02x", r == R1_NONE ? "no response" : "R1", r);
    }
    uint32_t ocr = 0;
    for (int i = 0; i < 4; i++)
        ocr = (ocr << 8) | xfer(0xff);
    end();
    if (!(ocr & OCR_POWERED_UP))
        return fail("CMD58: OCR 0x%08x: power-up not finished after ACMD41", ocr);
    high_capacity_ = v2 && (ocr & OCR_CCS);

    if (!high_capacity_) {
        r = command(CMD_SET_BLOCKLEN, SECTOR);
        end();
        if (r != 0)
            return fail("CMD16 (block length 512): %s 0x%02x", r == R1_NONE ? "no response" : "R1", r);
    }

    // CMD9: the CSD as a 16-byte data block.
    uint8_t csd[16];
    r = command(CMD_SEND_CSD, 0);
    if (r != 0) {
        end();
        return fail("CMD9 (CSD): %s 0x%02x", r == R1_NONE ? "no response" : "R1", r);
    }
    bool ok = read_data(csd, sizeof csd, "CMD9 (CSD)");
    end();
    if (!ok)
        return lib::Error::IO;
    unsigned structure = csd_bits(csd, 127, 126);
    if (structure == 0) {
        uint32_t c_size = csd_bits(csd, 73, 62);
        uint32_t mult = csd_bits(csd, 49, 47);
        uint32_t read_bl_len = csd_bits(csd, 83, 80);
        if (read_bl_len < 9 || read_bl_len > 11)
            return fail("CSD v1: READ_BL_LEN %u out of range", read_bl_len);
        uint64_t bytes = (uint64_t(c_size) + 1) << (mult + 2 + read_bl_len);
        sectors_ = bytes / SECTOR;
    } else if (structure == 1) {
        uint32_t c_size = csd_bits(csd, 69, 48);
        sectors_ = (uint64_t(c_size) + 1) * 1024;
    } else {
        return fail("CSD structure version %u (SDUC?) not supported", structure + 1);
    }
    if (sectors_ == 0)
        return fail("CSD gives a capacity of 0");
    if (!high_capacity_ && sectors_ > (1ul << 32) / SECTOR)
        return fail("byte-addressed card larger than 4 GiB (%lu sectors)", sectors_);

    spi_.set_divider(DIV_FAST);
    char size[24];
    lib::format_size(size, sizeof size, sectors_ * SECTOR);
    kprintf("sdcard %s: %s card (CSD v%u), %lu sectors (%s), %s addressing (%s, irq %u, polled)\n", name_,
            high_capacity_ ? "SDHC/SDXC" : v2 ? "SDSC v2" : "SDSC v1", structure + 1, sectors_, size,
            high_capacity_ ? "block" : "byte", where_, irq);
    return {};
}

namespace {

alignas(SdCardSpi) unsigned char g_storage[fdt::kMaxSpi][sizeof(SdCardSpi)];
unsigned g_ncards;

} // namespace

void sdcard_spi_probe_all()
{
    const fdt::MachineInfo& m = kern::platform::machine();
    for (size_t i = 0; i < m.nspi && i < fdt::kMaxSpi; i++) {
        const fdt::Spi& c = m.spi[i];
        if (!c.has_mmc_slot)
            continue;
        auto* d = new (g_storage[g_ncards]) SdCardSpi();
        lib::Status s = d->init(c.base, c.irq, g_ncards);
        if (s.error() == lib::Error::NotFound) {
            kprintf("sdcard: no card in the slot of spi@%lx\n", c.base);
            continue;
        }
        if (!s.ok()) {
            kprintf("sdcard: the card in the slot of spi@%lx is not used\n", c.base);
            continue;
        }
        register_block_device(d);
        g_ncards++;
    }
}

} // namespace dev
