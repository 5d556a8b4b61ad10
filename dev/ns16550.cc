#include "dev/ns16550.h"

#include "kern/arch/riscv/mmio.h"

namespace dev {
namespace {
constexpr unsigned RBR = 0, THR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5;
constexpr uint8_t LSR_DATA_READY = 0x01, LSR_THR_EMPTY = 0x20;
constexpr uint8_t IER_RX_AVAILABLE = 0x01;
constexpr uint8_t FCR_ENABLE_CLEAR = 0x07;
constexpr uint8_t LCR_8N1 = 0x03;
constexpr uint8_t MCR_OUT2 = 0x08; // gates the interrupt line on PC-style 16550s
} // namespace

uint8_t Ns16550::read(unsigned reg) const
{
    uintptr_t a = base_ + (uintptr_t(reg) << shift_);
    return width_ == 4 ? uint8_t(mmio::read32(a)) : mmio::read8(a);
}

void Ns16550::write(unsigned reg, uint8_t v) const
{
    uintptr_t a = base_ + (uintptr_t(reg) << shift_);
    if (width_ == 4)
        mmio::write32(a, v);
    else
        mmio::write8(a, v);
}

// The firmware already programmed the baud rate; keep it, set 8N1 and FIFOs.
// LCR is written only if it must change: a DesignWare APB UART ignores (and
// flags as "busy") an LCR write while it is transmitting.
void Ns16550::init()
{
    write(IER, 0);
    if (read(LCR) != LCR_8N1)
        write(LCR, LCR_8N1);
    write(FCR, FCR_ENABLE_CLEAR);
    write(MCR, MCR_OUT2);
}

void Ns16550::putc(char c)
{
    while (!(read(LSR) & LSR_THR_EMPTY)) {
    }
    write(THR, static_cast<uint8_t>(c));
}

int Ns16550::getc()
{
    if (read(LSR) & LSR_DATA_READY)
        return read(RBR);
    return -1;
}

void Ns16550::enable_rx_interrupt() { write(IER, IER_RX_AVAILABLE); }

} // namespace dev
