#include "dev/sifive_spi.h"

#include "kern/arch/riscv/mmio.h"
#include "kern/arch/riscv/timer.h"

namespace dev {
namespace {

constexpr uintptr_t SCKDIV = 0x00;
constexpr uintptr_t SCKMODE = 0x04;
constexpr uintptr_t CSID = 0x10;
constexpr uintptr_t CSDEF = 0x14;
constexpr uintptr_t CSMODE = 0x18;
constexpr uintptr_t FMT = 0x40;
constexpr uintptr_t TXDATA = 0x48;
constexpr uintptr_t RXDATA = 0x4c;
constexpr uintptr_t FCTRL = 0x60;
constexpr uintptr_t IE = 0x70;

constexpr uint32_t CSMODE_AUTO = 0;
constexpr uint32_t CSMODE_HOLD = 2;
constexpr uint32_t CSMODE_OFF = 3;

constexpr uint32_t FIFO_FULL = 1u << 31;  // txdata
constexpr uint32_t FIFO_EMPTY = 1u << 31; // rxdata

// fmt: single-wire protocol (0), MSB first (0), receive enabled (dir 0), 8-bit frames.
constexpr uint32_t FMT_8BIT = 8u << 16;

constexpr uint32_t SCKDIV_MAX = 0xfff;
constexpr uint32_t SLOW_DIV = 624; // 400 kHz from a 500 MHz tlclk, slower from a slower one

// A byte at 400 kHz takes 20 us; a controller that has not moved one in
// 10 ms is stuck.
constexpr uint64_t BYTE_TIMEOUT_US = 10000;
// Polls before the clock is read at all (rdtime may trap to the SBI).
constexpr unsigned FAST_POLLS = 64;

} // namespace

void SifiveSpi::init(uintptr_t base, bool flash_controller)
{
    base_ = base;
    mmio::write32(base_ + IE, 0);
    if (flash_controller)
        mmio::write32(base_ + FCTRL, 0);
    mmio::write32(base_ + CSMODE, CSMODE_AUTO);
    mmio::write32(base_ + CSDEF, 1);  // CS 0 idles high (active low)
    mmio::write32(base_ + CSID, 0);
    mmio::write32(base_ + SCKMODE, 0); // CPOL 0, CPHA 0: SD cards use SPI mode 0
    mmio::write32(base_ + FMT, FMT_8BIT);
    set_divider(SLOW_DIV);
    // Drop whatever an earlier owner (firmware, U-Boot) left in the receive FIFO.
    for (unsigned i = 0; i < 64; i++)
        if (mmio::read32(base_ + RXDATA) & FIFO_EMPTY)
            break;
}

void SifiveSpi::set_divider(uint32_t div) { mmio::write32(base_ + SCKDIV, div > SCKDIV_MAX ? SCKDIV_MAX : div); }

void SifiveSpi::select() { mmio::write32(base_ + CSMODE, CSMODE_HOLD); }
void SifiveSpi::deselect() { mmio::write32(base_ + CSMODE, CSMODE_AUTO); }
void SifiveSpi::cs_released() { mmio::write32(base_ + CSMODE, CSMODE_OFF); }

bool SifiveSpi::transfer(uint8_t out, uint8_t& in)
{
    uint64_t start = 0;
    for (unsigned n = 0;; n++) {
        if (!(mmio::read32(base_ + TXDATA) & FIFO_FULL))
            break;
        if (n == FAST_POLLS)
            start = kern::timer::now_us();
        else if (n > FAST_POLLS && kern::timer::now_us() - start > BYTE_TIMEOUT_US)
            return false;
    }
    mmio::write32(base_ + TXDATA, out);
    for (unsigned n = 0;; n++) {
        uint32_t v = mmio::read32(base_ + RXDATA);
        if (!(v & FIFO_EMPTY)) {
            in = uint8_t(v);
            return true;
        }
        if (n == FAST_POLLS)
            start = kern::timer::now_us();
        else if (n > FAST_POLLS && kern::timer::now_us() - start > BYTE_TIMEOUT_US)
            return false;
    }
}

} // namespace dev
