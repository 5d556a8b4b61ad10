// The console UART as the kernel sees it, whichever chip is behind it.
#pragma once

namespace dev {

class Uart {
public:
    virtual void putc(char c) = 0;
    // Returns the next received byte, or -1 when none is waiting.
    virtual int getc() = 0;
    virtual void enable_rx_interrupt() = 0;
    virtual const char* name() const = 0;

protected:
    ~Uart() = default;
};

} // namespace dev
