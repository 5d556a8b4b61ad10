// NS16550A UART (QEMU virt) and its family, the DesignWare APB UART of most
// boards since the FU740 (EIC7700, SG2042, JH7110). Registers are 1 << reg_shift
// bytes apart and reg_io_width (1 or 4) bytes wide, as the device tree says;
// `base` already includes the tree's reg-offset.
#pragma once

#include "dev/uart.h"

#include <cstdint>

namespace dev {

class Ns16550 final : public Uart {
public:
    Ns16550(uintptr_t base, unsigned reg_shift, unsigned io_width)
        : base_(base), shift_(reg_shift), width_(io_width) {}
    void init();
    void putc(char c) override;
    int getc() override;
    void enable_rx_interrupt() override;
    const char* name() const override { return "ns16550a"; }

private:
    uint8_t read(unsigned reg) const;
    void write(unsigned reg, uint8_t v) const;

    uintptr_t base_;
    unsigned shift_;
    unsigned width_;
};

} // namespace dev
