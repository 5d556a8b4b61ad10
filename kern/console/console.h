// kern/console/: output and the reports a failing kernel prints: the console
// (here), kprintf (printf.h), panic and fatal reports (panic.h), backtraces
// symbolized from the kernel's own symbol table (backtrace.h, ksyms.h). Any
// code, in any context, may print, so this folder uses only the hart layer,
// lib/format.h, the UART interface (dev/uart.h) and two spinlocks of its own
// (output, input); once a panic starts, output takes no lock (enter_panic_mode).
//
// The kernel console: output through SBI until a UART driver is up, then the
// UART; input from the UART's receive interrupt into a ring buffer.
#pragma once

#include <cstddef>

namespace dev {
class Uart;
}

namespace console {

void write(const char* s, size_t n);
void putc(char c);

// Switch output from SBI to the UART driver, and input to its interrupt.
void attach_uart(dev::Uart* uart);
[[nodiscard]] dev::Uart* uart();
// Called from the UART's interrupt handler: move received bytes into the ring.
void rx_interrupt();
// Next input byte; waits (wfi) until one arrives. Polls when input is not interrupt-driven.
int getc();
// Next input byte or -1, without waiting.
int try_getc();
void set_interrupt_driven(bool on);

// A panicking hart must be able to print even if another hart died holding the
// console lock: after this, output ignores the lock.
void enter_panic_mode();

// Serialises whole kprintf calls so lines from different harts do not interleave.
void lock();
void unlock();

} // namespace console
