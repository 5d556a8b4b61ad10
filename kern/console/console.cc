#include "kern/console/console.h"

#include "dev/uart.h"
#include "kern/seam/cpu.h"
#include "kern/arch/riscv/csr.h"
#include "kern/arch/riscv/sbi.h"
#include "kern/sync/spinlock.h"

#include <atomic>

namespace console {
namespace {

dev::Uart* g_uart;
bool g_irq_input;
std::atomic<bool> g_panic {false};
ksync::SpinLock g_out_lock("console-out");

// Receive ring: written by the interrupt handler, read by the shell.
constexpr unsigned RING = 256;
char g_ring[RING];
unsigned g_head, g_tail; // guarded by g_in_lock
ksync::SpinLock g_in_lock("console-in");

void raw_putc(char c)
{
    if (g_uart)
        g_uart->putc(c);
    else
        sbi::console_putchar(c);
}

} // namespace

void lock()
{
    if (!g_panic.load(std::memory_order_relaxed))
        g_out_lock.lock();
}

void unlock()
{
    if (!g_panic.load(std::memory_order_relaxed) && g_out_lock.held_by_me())
        g_out_lock.unlock();
}

void enter_panic_mode() { g_panic.store(true); }

void write(const char* s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            raw_putc('\r');
        raw_putc(s[i]);
    }
}

void putc(char c) { write(&c, 1); }

void attach_uart(dev::Uart* uart) { g_uart = uart; }
dev::Uart* uart() { return g_uart; }
void set_interrupt_driven(bool on) { g_irq_input = on; }

void rx_interrupt()
{
    if (!g_uart)
        return;
    ksync::SpinGuard guard(g_in_lock);
    for (int c; (c = g_uart->getc()) >= 0;) {
        if (g_head - g_tail < RING)
            g_ring[g_head++ % RING] = static_cast<char>(c);
        // else: the ring is full and the byte is dropped, as a real UART would.
    }
}

int try_getc()
{
    if (!g_irq_input) {
        if (g_uart)
            return g_uart->getc();
        return sbi::console_getchar();
    }
    ksync::SpinGuard guard(g_in_lock);
    if (g_head == g_tail)
        return -1;
    return static_cast<unsigned char>(g_ring[g_tail++ % RING]);
}

int getc()
{
    for (;;) {
        // Interrupts off between the check and wfi: an interrupt that arrives in
        // between stays pending and makes wfi return at once.
        unsigned long irq = cpu::irq_save();
        int c = try_getc();
        if (c >= 0) {
            cpu::irq_restore(irq);
            return c;
        }
        csr::wfi();
        cpu::irq_restore(irq);
    }
}

} // namespace console
