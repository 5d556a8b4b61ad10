// User FP state, switched lazily (kern/arch/riscv/fpu.h says when and why).
#include "kern/arch/riscv/fpu.h"

#include "kern/arch/riscv/asm.h"
#include "kern/arch/riscv/trap.h"
#include "kern/seam/cpu.h"
#include "kstack/kstack.h"
#include "vm/kmem.h"
#include "zalloc/zone.h"

#include <atomic>

extern "C" void fpu_save(kern::FpContext* ctx);
extern "C" void fpu_load(const kern::FpContext* ctx);

namespace kern::fpu {
namespace {

// sstatus.FS: Off 0, Initial 1, Clean 2, Dirty 3 (bits 13-14).
constexpr uint64_t FS_INITIAL = uint64_t(1) << 13;
constexpr uint64_t FS_CLEAN = uint64_t(2) << 13;
constexpr uint64_t FS_DIRTY = uint64_t(3) << 13;

zalloc::Zone g_zone;
std::atomic<uint64_t> g_live {0};

// A user thread's saved user registers: the frame trap entry built where its
// kernel stack's frames start (kstack::frames_top, mapped while it runs). Its
// sstatus is what the thread's FS was in U-mode.
TrapFrame* user_frame(Thread* t) { return reinterpret_cast<TrapFrame*>(kstack::frames_top(t->stack) - TF_SIZE); }

} // namespace

void init() { g_zone.init("fpu", sizeof(FpContext), vm::kmem::backend()); }

void save_if_dirty(Thread* prev)
{
    TrapFrame* tf = user_frame(prev);
    if ((tf->sstatus & SSTATUS_FS) != FS_DIRTY)
        return;
    fpu_save(prev->fpu);
    tf->sstatus = (tf->sstatus & ~uint64_t(SSTATUS_FS)) | FS_CLEAN;
}

void load(const FpContext* ctx) { fpu_load(ctx); }

bool first_use(Thread* me, TrapFrame& tf)
{
    // FS on: the FP unit was usable, so the instruction is really illegal. A
    // context with FS Off cannot happen (FS only goes Off at thread start).
    if ((tf.sstatus & SSTATUS_FS) || me->fpu)
        return false;
    auto* ctx = static_cast<FpContext*>(g_zone.alloc(zalloc::M_WAITOK | zalloc::M_NULLOK | zalloc::M_ZERO));
    if (!ctx)
        return false;
    // Context, registers and FS together: a switch in between would load or
    // save a half-made state.
    unsigned long irq = cpu::irq_save();
    me->fpu = ctx;
    // The registers still hold the last FP thread's values: zero them.
    fpu_load(ctx);
    tf.sstatus |= FS_INITIAL;
    cpu::irq_restore(irq);
    g_live.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void release(Thread* me)
{
    unsigned long irq = cpu::irq_save();
    FpContext* ctx = me->fpu;
    me->fpu = nullptr;
    cpu::irq_restore(irq);
    if (ctx) {
        g_zone.free(ctx);
        g_live.fetch_sub(1, std::memory_order_relaxed);
    }
}

uint64_t live() { return g_live.load(std::memory_order_relaxed); }

} // namespace kern::fpu
