// Intrusive doubly linked list.
//
// The node lives inside the object, so linking never allocates: the property
// every allocator and scheduler list in Zest depends on. A list is circular
// around its head node; an unlinked node points at itself, which makes
// "is this linked?" a constant-time question and a double unlink harmless.
#pragma once

#include <cstddef>

namespace lib {

struct ListNode {
    ListNode* prev = this;
    ListNode* next = this;

    constexpr ListNode() = default;
    ListNode(const ListNode&) = delete;
    ListNode& operator=(const ListNode&) = delete;

    [[nodiscard]] bool linked() const { return next != this; }

    void unlink()
    {
        prev->next = next;
        next->prev = prev;
        prev = next = this;
    }
};

// List<T, &T::node>: a list of T threaded through the member `node`.
template <typename T, ListNode T::*Member>
class List {
public:
    constexpr List() = default;
    List(const List&) = delete;
    List& operator=(const List&) = delete;

    [[nodiscard]] bool empty() const { return head_.next == &head_; }
    [[nodiscard]] size_t size() const { return size_; }

    void push_front(T& item) { insert_after(head_, node_of(item)); }
    // Insert item just before pos (which must be on this list).
    void insert_before(T& pos, T& item) { insert_after(*node_of(pos).prev, node_of(item)); }
    void push_back(T& item) { insert_after(*head_.prev, node_of(item)); }

    void remove(T& item)
    {
        node_of(item).unlink();
        --size_;
    }

    [[nodiscard]] T* front() const { return empty() ? nullptr : owner(head_.next); }
    [[nodiscard]] T* back() const { return empty() ? nullptr : owner(head_.prev); }

    T* pop_front()
    {
        T* item = front();
        if (item)
            remove(*item);
        return item;
    }

    T* pop_back()
    {
        T* item = back();
        if (item)
            remove(*item);
        return item;
    }

    // Next element after `item`, or nullptr at the end.
    [[nodiscard]] T* next(const T& item) const
    {
        const ListNode* n = node_of(const_cast<T&>(item)).next;
        return n == &head_ ? nullptr : owner(n);
    }

    // Element before `item`, or nullptr at the front.
    [[nodiscard]] T* prev(const T& item) const
    {
        const ListNode* n = node_of(const_cast<T&>(item)).prev;
        return n == &head_ ? nullptr : owner(n);
    }

    class Iterator {
    public:
        Iterator(const ListNode* n, const ListNode* head) : n_(n), head_(head) {}
        T& operator*() const { return *owner(n_); }
        T* operator->() const { return owner(n_); }
        // Removing the element under the iterator invalidates it: to drain a list, pop.
        Iterator& operator++()
        {
            n_ = n_->next;
            return *this;
        }
        bool operator!=(const Iterator& o) const { return n_ != o.n_; }

    private:
        const ListNode* n_;
        const ListNode* head_;
    };

    Iterator begin() const { return Iterator(head_.next, &head_); }
    Iterator end() const { return Iterator(&head_, &head_); }

private:
    static ListNode& node_of(T& item) { return item.*Member; }

    // offsetof for a pointer-to-member, measured on a dummy object (never constructed)
    // so no null pointer is ever dereferenced; the compiler folds it to a constant.
    static size_t member_offset()
    {
        alignas(T) static unsigned char probe[sizeof(T)];
        T* t = reinterpret_cast<T*>(probe);
        return static_cast<size_t>(reinterpret_cast<unsigned char*>(&(t->*Member)) - probe);
    }

    static T* owner(const ListNode* n)
    {
        return reinterpret_cast<T*>(reinterpret_cast<char*>(const_cast<ListNode*>(n)) - member_offset());
    }

    void insert_after(ListNode& pos, ListNode& n)
    {
        n.prev = &pos;
        n.next = pos.next;
        pos.next->prev = &n;
        pos.next = &n;
        ++size_;
    }

    ListNode head_;
    size_t size_ = 0;
};

} // namespace lib
