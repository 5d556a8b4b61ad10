// External interrupts: device drivers register a handler per PLIC source.
#pragma once

namespace kern::irq {

// A function pointer plus context, not a lib::FunctionRef: the handler is
// kept and called on every interrupt long after attach() has returned, so
// nothing it refers to may live in attach()'s caller's frame.
using Handler = void (*)(void* ctx);

// Register a handler for PLIC source `irq` and route it to hart `hart_index`.
void attach(unsigned irq, Handler h, void* ctx, const char* name, unsigned hart_index);
// Set this hart's threshold so it takes interrupts routed to it.
void init_hart();
// The S-mode external interrupt handler: claim, dispatch, complete until none pending.
void handle_external();

} // namespace kern::irq
