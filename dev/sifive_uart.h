// SiFive UART (FU540/FU740: HiFive Unleashed and Unmatched, QEMU sifive_u).
#pragma once

#include "dev/uart.h"

#include <cstdint>

namespace dev {

class SifiveUart final : public Uart {
public:
    explicit SifiveUart(uintptr_t base) : base_(base) {}
    void init();
    void putc(char c) override;
    int getc() override;
    void enable_rx_interrupt() override;
    const char* name() const override { return "sifive,uart0"; }

private:
    uintptr_t base_;
};

} // namespace dev
