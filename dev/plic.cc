#include "dev/plic.h"

#include "kern/arch/riscv/mmio.h"

namespace dev::plic {
namespace {
constexpr uintptr_t PRIORITY = 0x0;
constexpr uintptr_t ENABLE = 0x2000, ENABLE_STRIDE = 0x80;
constexpr uintptr_t CONTEXT = 0x200000, CONTEXT_STRIDE = 0x1000;
constexpr uintptr_t THRESHOLD = 0x0, CLAIM = 0x4;

uintptr_t g_base;
unsigned g_ndev;
} // namespace

void init(uintptr_t base, unsigned n)
{
    g_base = base;
    g_ndev = n;
}

bool present() { return g_base != 0; }
unsigned ndev() { return g_ndev; }

void set_priority(unsigned irq, unsigned prio) { mmio::write32(g_base + PRIORITY + 4 * irq, prio); }

void enable(unsigned irq, int ctx)
{
    uintptr_t a = g_base + ENABLE + ENABLE_STRIDE * ctx + 4 * (irq / 32);
    mmio::write32(a, mmio::read32(a) | (1u << (irq % 32)));
}

void disable(unsigned irq, int ctx)
{
    uintptr_t a = g_base + ENABLE + ENABLE_STRIDE * ctx + 4 * (irq / 32);
    mmio::write32(a, mmio::read32(a) & ~(1u << (irq % 32)));
}

void set_threshold(int ctx, unsigned t) { mmio::write32(g_base + CONTEXT + CONTEXT_STRIDE * ctx + THRESHOLD, t); }

unsigned claim(int ctx) { return mmio::read32(g_base + CONTEXT + CONTEXT_STRIDE * ctx + CLAIM); }

void complete(int ctx, unsigned irq) { mmio::write32(g_base + CONTEXT + CONTEXT_STRIDE * ctx + CLAIM, irq); }

} // namespace dev::plic
