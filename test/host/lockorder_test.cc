// The lock order table (kern/sync/lockorder.cc) and the checker's logic: a wrong
// order is caught, an allowed one is not, exceptions, sleeping-lock and
// interrupt rules, pair counting; docs/locking.md's table is generated from
// the table (ZEST_WRITE_LOCK_TABLE=1 rewrites it), and every lock the
// sources name is in the table.
#include "kern/sync/lockorder.h"

#include <doctest/doctest.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

using namespace ksync::lockcheck;

namespace {

uint16_t cls(const char* name)
{
    uint16_t c = find_class(name);
    REQUIRE_MESSAGE(c != NO_CLASS, name);
    return c;
}

struct Stacks {
    HartHeld spins {};
    ThreadHeld sleeps {};
    int n = 0;
    void spin(const char* name) { spins.push(&n + spins.n, cls(name), 0x1000u + spins.n); }
    void sleep(const char* name) { sleeps.push(&n + 8 + sleeps.n, cls(name), 0x2000u + sleeps.n); }
    Problem take(const char* name, bool irq = false) { return check_acquire(spins, &sleeps, cls(name), irq).problem; }
};

std::string flags_text(const ClassDef& c)
{
    std::string s = c.kind == Kind::Sleep ? "sleeping" : "spin";
    if (c.flags & NO_IRQ)
        s += ", never in an interrupt";
    if (c.flags & HANDED_OVER)
        s += ", held across a switch";
    return s;
}

const std::string BEGIN = "<!-- lock table: generated from kern/sync/lockorder.cc by test/host/lockorder_test.cc -->";
const std::string END = "<!-- end of lock table -->";

std::string generated_table()
{
    std::ostringstream o;
    o << BEGIN << "\n\n| rank | lock | kind | file | protects |\n|---|---|---|---|---|\n";
    for (unsigned i = 0; i < class_count(); i++) {
        const ClassDef& c = class_def(uint16_t(i));
        if (c.flags & TEST_ONLY)
            continue;
        o << "| " << c.rank << " | `" << c.name << "` | " << flags_text(c) << " | " << c.file << " | " << c.protects
          << " |\n";
    }
    o << "\nExceptions to the ranks (a lock taken while one of its own or a higher rank is held):\n\n";
    for (unsigned i = 0; i < exception_count(); i++) {
        const Exception& e = exception_def(i);
        if ((class_def(find_class(e.held)).flags & TEST_ONLY) && (class_def(find_class(e.taken)).flags & TEST_ONLY))
            continue;
        o << "- `" << e.taken << "` under `" << e.held << "`: " << e.why << "\n";
    }
    o << "\n" << END;
    return o.str();
}

// The names in declarations `SpinLock x {"name"}` and `Mutex x("name")`.
std::set<std::string> declared_locks(const std::string& text)
{
    std::set<std::string> out;
    for (const char* kw : {"SpinLock ", "Mutex "}) {
        for (size_t at = text.find(kw); at != std::string::npos; at = text.find(kw, at + 1)) {
            size_t i = at + strlen(kw);
            auto skip_space = [&] {
                while (i < text.size() && text[i] == ' ')
                    i++;
            };
            skip_space();
            size_t id = i;
            while (i < text.size() && (isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
                i++;
            if (i == id)
                continue;
            skip_space();
            if (i >= text.size() || (text[i] != '(' && text[i] != '{'))
                continue;
            i++;
            skip_space();
            if (i >= text.size() || text[i] != '"')
                continue;
            size_t close = text.find('"', i + 1);
            out.insert(text.substr(i + 1, close - i - 1));
        }
    }
    return out;
}

std::string read(const std::string& path)
{
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("lockorder: a lock taken after one it must precede is a violation")
{
    Stacks s;
    s.spin("runqueue");
    CHECK(s.take("waitqueue") == Problem::Order);
    Verdict v = check_acquire(s.spins, &s.sleeps, cls("waitqueue"), false);
    REQUIRE(v.against);
    CHECK(v.against->cls == cls("runqueue"));
    // The same class twice (two run queues) is not ordered either.
    CHECK(s.take("runqueue") == Problem::Order);
}

TEST_CASE("lockorder: the allowed order passes, deep chains too")
{
    Stacks s;
    CHECK(s.take("ipc") == Problem::None);
    s.spin("ipc");
    CHECK(s.take("waitqueue") == Problem::None);
    s.spin("waitqueue");
    CHECK(s.take("runqueue") == Problem::None);
    s.spin("runqueue");
    CHECK(s.take("swapin-queue") == Problem::None);
    CHECK(s.take("console-out") == Problem::None);
    // A conflict deep in the stack is found, not only against the newest.
    CHECK(s.take("task") == Problem::Order);
}

TEST_CASE("lockorder: exceptions allow one direction only")
{
    Stacks s;
    s.spin("task-list");
    CHECK(s.take("task") == Problem::None);
    Stacks t;
    t.spin("task");
    CHECK(t.take("task-list") == Problem::Order);
}

TEST_CASE("lockorder: sleeping locks, interrupts, switches, unknown names")
{
    Stacks s;
    CHECK(s.take("uspace") == Problem::None);
    s.sleep("uspace");
    CHECK(s.take("kstack") == Problem::None); // spinlocks under a mutex
    s.spin("kstack");
    CHECK(s.take("uspace") == Problem::SleepUnderSpin);
    Stacks irq;
    CHECK(irq.take("uspace", true) == Problem::InIrq);
    CHECK(irq.take("task", true) == Problem::InIrq);
    CHECK(irq.take("runqueue", true) == Problem::None);
    CHECK(check_in_irq(cls("uspace"), true).problem == Problem::InIrq);
    CHECK(check_in_irq(cls("uspace"), false).problem == Problem::None);
    // A mutex the interrupted thread holds does not order what the handler takes.
    Stacks held;
    held.sleep("uspace");
    CHECK(check_acquire(held.spins, nullptr, cls("runqueue"), true).problem == Problem::None);

    Stacks sw;
    sw.spin("runqueue");
    CHECK(check_switch(sw.spins).problem == Problem::None);
    sw.spin("timeouts");
    CHECK(check_switch(sw.spins).problem == Problem::SwitchHolding);
    CHECK(find_class("no-such-lock") == NO_CLASS);
    CHECK(check_acquire(sw.spins, nullptr, NO_CLASS, false).problem == Problem::UnknownClass);
}

TEST_CASE("lockorder: held stacks release out of order and count overflow")
{
    HeldStack<2> h {};
    int a, b, c;
    h.push(&a, 0, 1);
    h.push(&b, 1, 2);
    h.push(&c, 2, 3);
    CHECK(h.n == 2);
    CHECK(h.dropped == 1);
    h.pop(&c);
    CHECK(h.dropped == 0);
    h.pop(&a);
    REQUIRE(h.n == 1);
    CHECK(h.e[0].lock == &b);
    h.pop(&a); // taken before checking was on: ignored
    CHECK(h.n == 1);
}

TEST_CASE("lockorder: distinct pairs are counted once, with their first acquirers")
{
    auto p = std::make_unique<Pairs>();
    CHECK(p->record(cls("waitqueue"), cls("runqueue"), 10, 20));
    CHECK_FALSE(p->record(cls("waitqueue"), cls("runqueue"), 30, 40));
    CHECK(p->record(cls("runqueue"), cls("timeouts"), 50, 60));
    CHECK(p->pairs() == 2);
    uintptr_t a = 0, b = 0;
    p->first(cls("waitqueue"), cls("runqueue"), a, b);
    CHECK(a == 10);
    CHECK(b == 20);
    p->first(cls("runqueue"), cls("waitqueue"), a, b);
    CHECK(a == 0);
    CHECK_FALSE(p->seen(cls("runqueue"), cls("waitqueue")));
    p->saw(3);
    p->saw(3);
    p->saw(5);
    CHECK(p->classes() == 2);
}

TEST_CASE("lockorder: docs/locking.md's table is the one generated from the code")
{
    std::string doc = read("docs/locking.md");
    REQUIRE(!doc.empty());
    size_t b = doc.find(BEGIN), e = doc.find(END);
    REQUIRE_MESSAGE(b != std::string::npos, "docs/locking.md lacks the table's begin marker");
    REQUIRE(e != std::string::npos);
    std::string want = generated_table();
    std::string have = doc.substr(b, e + END.size() - b);
    if (have != want && std::getenv("ZEST_WRITE_LOCK_TABLE")) {
        std::ofstream("docs/locking.md") << doc.substr(0, b) << want << doc.substr(e + END.size());
        have = want;
    }
    CHECK_MESSAGE(have == want, "docs/locking.md's table differs from kern/sync/lockorder.cc: run "
                                "ZEST_WRITE_LOCK_TABLE=1 build/host/lockorder_test");
}

TEST_CASE("lockorder: every lock the sources name is in the table, in the file it names")
{
    std::set<std::string> named;
    for (const char* dir : {"kern", "vm", "kstack", "dev", "zalloc", "test/kernel"}) {
        for (auto& f : std::filesystem::recursive_directory_iterator(dir)) {
            for (const std::string& name : declared_locks(read(f.path().string()))) {
                named.insert(name);
                CHECK_MESSAGE(find_class(name.c_str()) != NO_CLASS,
                              f.path().string() << " names lock \"" << name << "\", not in kern/sync/lockorder.cc");
            }
        }
    }
    CHECK(named.size() >= 20);
    for (unsigned i = 0; i < class_count(); i++) {
        const ClassDef& c = class_def(uint16_t(i));
        std::string text = read(c.file);
        CHECK_MESSAGE(text.find(std::string("\"") + c.name + "\"") != std::string::npos,
                      std::string(c.name) << ": not named in " << std::string(c.file));
    }
}
