#include "dev/sifive_uart.h"

#include "kern/arch/riscv/mmio.h"

namespace dev {
namespace {
constexpr uintptr_t TXDATA = 0x00, RXDATA = 0x04, TXCTRL = 0x08, RXCTRL = 0x0c, IE = 0x10;
constexpr uint32_t DATA_FLAG = 1u << 31; // txdata: FIFO full; rxdata: FIFO empty
constexpr uint32_t CTRL_ENABLE = 1u;
constexpr uint32_t IE_RXWM = 1u << 1;
} // namespace

// The boot firmware set the divisor for 115200 baud; enable TX and RX with a
// receive watermark of 0 (interrupt as soon as one byte is waiting).
void SifiveUart::init()
{
    mmio::write32(base_ + TXCTRL, mmio::read32(base_ + TXCTRL) | CTRL_ENABLE);
    mmio::write32(base_ + RXCTRL, CTRL_ENABLE);
    mmio::write32(base_ + IE, 0);
}

void SifiveUart::putc(char c)
{
    while (mmio::read32(base_ + TXDATA) & DATA_FLAG) {
    }
    mmio::write32(base_ + TXDATA, static_cast<uint8_t>(c));
}

int SifiveUart::getc()
{
    uint32_t v = mmio::read32(base_ + RXDATA);
    if (v & DATA_FLAG)
        return -1;
    return static_cast<int>(v & 0xff);
}

void SifiveUart::enable_rx_interrupt() { mmio::write32(base_ + IE, IE_RXWM); }

} // namespace dev
