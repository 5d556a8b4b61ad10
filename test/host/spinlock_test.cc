#include "kern/sync/spinlock.h"
#include "test/host/host_kernel.h"

#include <doctest/doctest.h>
#include <thread>
#include <vector>

TEST_CASE("spinlock: mutual exclusion across host harts")
{
    ksync::SpinLock lock("test");
    long counter = 0;
    constexpr int N = 4, ITER = 20000;
    cpu::host_set_count(N);
    std::vector<std::thread> harts;
    for (int h = 0; h < N; h++) {
        harts.emplace_back([&, h] {
            cpu::host_bind(h);
            for (int i = 0; i < ITER; i++) {
                ksync::SpinGuard g(lock);
                CHECK_FALSE(cpu::irqs_enabled());
                counter++;
            }
        });
    }
    for (auto& t : harts)
        t.join();
    CHECK(counter == long(N) * ITER);
    CHECK(cpu::irqs_enabled());
    cpu::host_set_count(1);
}

TEST_CASE("spinlock: recursion and foreign unlock panic with the lock's name")
{
    cpu::host_bind(0);
    ksync::SpinLock lock("zone-lock");
    lock.lock();
    CHECK_THROWS_AS(lock.lock(), HostPanic);
    lock.unlock();
    CHECK_THROWS_AS(lock.unlock(), HostPanic);
    try {
        lock.unlock();
    } catch (const HostPanic& p) {
        CHECK(p.message.find("zone-lock") != std::string::npos);
    }
}
