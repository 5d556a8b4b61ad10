// Inter-processor interrupts through SBI: each hart has a mask of pending
// reasons; the software-interrupt handler acts on each.
#pragma once

namespace kern::ipi {

enum class Reason : unsigned {
    Stop = 0, // panic: halt with interrupts off
    Call = 1, // run the function posted by smp::call_on
    Ping = 2, // do nothing (tests, wake from wfi)
};

void send(unsigned hart_index, Reason r);
void broadcast_stop();
// The S-mode software interrupt handler.
void handle();

} // namespace kern::ipi
