#include "lib/list.h"

#include <doctest/doctest.h>

namespace {
struct Item {
    int value;
    lib::ListNode node;
    explicit Item(int v) : value(v) {}
};
using ItemList = lib::List<Item, &Item::node>;
} // namespace

TEST_CASE("list: push, pop and order")
{
    ItemList list;
    Item a(1), b(2), c(3);
    CHECK(list.empty());
    list.push_back(a);
    list.push_back(b);
    list.push_front(c);
    CHECK(list.size() == 3);
    int expect[] = {3, 1, 2};
    int i = 0;
    for (Item& it : list)
        CHECK(it.value == expect[i++]);
    CHECK(i == 3);
    CHECK(list.pop_front()->value == 3);
    CHECK(list.pop_back()->value == 2);
    CHECK(list.front() == &a);
    CHECK(list.next(a) == nullptr);
    list.remove(a);
    CHECK(list.empty());
    CHECK(!a.node.linked());
    CHECK(list.pop_front() == nullptr);
}

TEST_CASE("list: remove from the middle keeps the rest linked")
{
    ItemList list;
    Item a(1), b(2), c(3);
    list.push_back(a);
    list.push_back(b);
    list.push_back(c);
    list.remove(b);
    CHECK(list.next(a) == &c);
    CHECK(list.size() == 2);
    CHECK(!b.node.linked());
}

TEST_CASE("list: prev walks back from the end, nullptr before the front")
{
    ItemList list;
    Item a(1), b(2), c(3);
    list.push_back(a);
    list.push_back(b);
    list.push_back(c);
    CHECK(list.prev(c) == &b);
    CHECK(list.prev(b) == &a);
    CHECK(list.prev(a) == nullptr);
    list.remove(b);
    CHECK(list.prev(c) == &a);
    while (list.pop_front()) {
    }
}
