// Many physical pages held at once (memory hogs in tests and the stress
// workload): a chain threaded through the pages' own first words (direct
// map), so holding any number of them costs no other memory.
#pragma once

#include "vm/kmem.h"

#include <cstdint>

namespace vm {

struct PageChain {
    uint64_t head = 0;
    uint64_t count = 0;

    void push(uint64_t pa)
    {
        *static_cast<uint64_t*>(vm::kmem::phys_to_virt(pa)) = head;
        head = pa;
        count++;
    }
    uint64_t pop()
    {
        uint64_t pa = head;
        if (pa) {
            head = *static_cast<uint64_t*>(vm::kmem::phys_to_virt(pa));
            count--;
        }
        return pa;
    }
    void free_all()
    {
        while (uint64_t pa = pop())
            vm::kmem::free_page(pa);
    }
    // Allocate with `cls` until the allocator says no; returns how many.
    uint64_t take_until_failure(vm::kmem::Class cls)
    {
        uint64_t n = 0;
        for (;;) {
            auto pa = vm::kmem::alloc_page(cls, false);
            if (!pa.ok())
                return n;
            push(pa.value());
            n++;
        }
    }
};

} // namespace vm
