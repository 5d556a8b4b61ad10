# gdb commands that know Zest's threads, stacks (swapped ones included) and
# memory counters. Loaded by tools/gdbinit; docs/debugging.md describes them.
#
#   zest threads            every thread, as the shell's `ps` lists them
#   zest bt ID|NAME         backtrace of a thread from its saved context (or
#                           its hart's registers while it runs); a swapped
#                           stack is read from the swap image and checksummed
#   zest swapfile PATH [SECTOR]  the host file behind the swap device (and the
#                           partition's first sector, if gdb cannot tell)
#   zest vmstat | zones | stacks   the shell's vmstat, vmstat -z and kstack
#
# Everything is read from memory through gdb's type information: fields by
# name, sizes and constants from the debug info, no offsets. Every field name
# and global this script knows of (Thread, kstack::Stack, the swap record
# kstack::SwapMeta, the zones, the counters) is in the one section below
# ("Kernel structures"); the rest works on the dictionaries it returns.
import os
import re

import gdb

# ---- Kernel structures -------------------------------------------------------
# Every field name, global and constant of the kernel this script reads. When
# a structure changes, this is the section to edit.

THREAD_TYPE = "kern::Thread"
THREAD_LIST = "kern::g_all"                    # kern/sched/thread.cc: every live thread
THREAD_LIST_NODE = "all_node"                  # Thread's link on it
SWAP_COUNTERS = "kstack::swap::detail::g_count"
SWAP_DEVICE = "vm::swap::g_dev"


def thread_fields(t):
    """A Thread (gdb.Value, not a pointer) as a dict."""
    task = t["task"]
    return {
        "addr": int(t.address),
        "id": num(t["id"]),
        "name": t["name"].string(length=t["name"].type.sizeof).split("\0")[0],
        "state": enum_name(t["state"]),
        "hart": num(t["hart"]),
        "priority": num(t["priority"]),
        "wait_reason": cstr(t["wait_reason"]),
        "stack": int(t["stack"]),
        "holds": num(t["stack_holds"]),
        "task_id": num(task.dereference()["id"]) if int(task) else None,
        "on_cpu": bool(num(t["on_cpu"])),
        # switch_context's record (kern/arch/riscv/switch.S): only sp, its low
        # bits saying where a thread with no SwitchFrame resumes (kern::Resume);
        # ra and s0-s11 are in the SwitchFrame at sp, on the thread's own stack.
        "ctx_sp": num(t["ctx"]["sp"]),
    }


SWITCH_FRAME_TYPE = "kern::SwitchFrame"        # what switch_context pushes: ra, s[12] (s0..s11)
THREAD_TOP_TYPE = "kern::ThreadTop"            # at kstack::top_area: the parked trap frame
RESUME_MASK = "kern::RESUME_MASK"
RESUME_KINDS = ("Frame", "Start", "Parked", "Ipc")  # kern::Resume


def resume_value(kind):
    """kern::Resume::KIND from the debug info (the enum's values are switch.S's)."""
    return int(gdb.parse_and_eval(f"(unsigned long)kern::Resume::{kind}"))


def symbol_address(name):
    return int(gdb.parse_and_eval(f"(unsigned long)&{name}"))


def saved_regs(t, mem):
    """pc, s0 and ra where a thread off its hart resumes, as kern::thread::saved_regs
    finds them (kern/sched/thread.cc), and how; mem reads its stack (from swap
    when it is there). Raises gdb.MemoryError when the SwitchFrame is unreadable."""
    mask = const(RESUME_MASK, default=15)
    kind = t["ctx_sp"] & mask
    sp = t["ctx_sp"] & ~mask
    kinds = {resume_value(k): k for k in RESUME_KINDS}
    k = kinds.get(kind)
    if k == "Frame":
        ft = gdb.lookup_type(SWITCH_FRAME_TYPE)
        off = {f.name: f.bitpos // 8 for f in ft.fields()}
        return mem(sp + off["ra"]), mem(sp + off["s"]), 0, f"its SwitchFrame at 0x{sp:x}"
    if k == "Start":
        return symbol_address("thread_trampoline"), 0, 0, "not started yet (thread_trampoline)"
    if k == "Parked":
        g, st = stack_geometry(), stack_fields(t["stack"])
        tt = gdb.lookup_type(THREAD_TOP_TYPE)
        # kstack::top_area: TOP_AREA_BYTES (sizeof(ThreadTop) rounded to 16) below the stack's top.
        top = (g["base"] + st["slot"] * g["slot"] + g["guard"] + g["size"] -
               const("kstack::TOP_AREA_BYTES", default=(tt.sizeof + 15) & ~15))
        parked = next(f for f in tt.fields() if f.name == "parked").bitpos // 8
        tf = gdb.lookup_type("kern::TrapFrame")
        xoff = next(f for f in tf.fields() if f.name == "x").bitpos // 8
        eoff = next(f for f in tf.fields() if f.name == "sepc").bitpos // 8
        base = top + parked
        # x[] holds x1..x31: ra is x[0], s0 x[7].
        return mem(base + eoff), mem(base + xoff + 7 * 8), mem(base + xoff), "parked from a trap (ThreadTop::parked)"
    if k == "Ipc":
        return symbol_address("ipc_resume"), 0, 0, "asleep in the IPC fast path (ipc_resume)"
    raise gdb.MemoryError(f"ctx.sp 0x{t['ctx_sp']:x} names no kern::Resume")


def stack_fields(addr):
    """A kstack::Stack at addr as a dict, its swap record (SwapMeta) included."""
    s = gdb.Value(addr).cast(gdb.lookup_type("kstack::Stack").pointer()).dereference()
    npages = s["pages"].type.range()[1] + 1
    d = {
        "state": stack_state_name(s["state"]),
        "slot": num(s["slot"]),
        "pages": [num(s["pages"][i]) for i in range(npages)],
        "mapped_from": num(s["mapped_from"]),
        "high_water": num(s["high_water"]),
        "meta": None,
    }
    if int(s["meta"]) and d["state"] in ("swapped", "swap-in", "swap-out"):
        m = s["meta"].dereference()
        d["meta"] = {"block": num(m["block"]), "first": num(m["first"]), "pages": num(m["pages"]),
                     "sum": [num(m["sum"][i]) for i in range(npages)]}
    return d


def stack_geometry():
    """Where slot n's stack lies: kstack/layout.h's arithmetic on its constants."""
    return {"base": const("vm::layout::KSTACK_BASE"), "size": const("kstack::STACK_SIZE"),
            "slot": const("kstack::SLOT_SIZE"), "guard": const("kstack::GUARD_SIZE"),
            "page": const("PAGE_SIZE", "lib::PAGE_SIZE", default=4096),
            "direct_map": const("vm::layout::DIRECT_MAP_BASE"),
            "fill": const("kstack::FILL", default=0x5a5a5a5a5a5a5a5a)}


def swap_partition_start():
    """The swap device's first sector on its disk: a dev::Partition's start_, else 0."""
    dev = glob(SWAP_DEVICE)
    if dev is None or int(dev) == 0:
        return None
    v = dev.dereference()
    dyn = v.dynamic_type
    if "Partition" in str(dyn):
        return num(v.cast(dyn)["start_"])
    return 0


def trap_frame_regs(addr):
    """sepc, s0 and ra of the TrapFrame at addr (kern/arch/riscv/trap.h: x[] holds x1..x31)."""
    tf = gdb.Value(addr).cast(gdb.lookup_type("kern::TrapFrame").pointer()).dereference()
    return num(tf["sepc"]), num(tf["x"][7]), num(tf["x"][0])


def hart_current(tp):
    """The thread a hart runs: HartLocal::current (kern/arch/riscv/hart.h), tp pointing at its HartLocal."""
    try:
        h = gdb.Value(tp).cast(gdb.lookup_type("kern::HartLocal").pointer()).dereference()
        return int(h["current"])
    except (gdb.MemoryError, gdb.error):
        return None


def phys_figures():
    """The page allocator (vm/phys.h's PhysAllocator; the kernel's is g_phys in vm/kmem.cc)."""
    p = glob("vm::kmem::g_phys")
    n = p["allocs_"].type.range()[1] + 1
    w = p["wm_"]
    return {"total": num(p["total_"]), "free": num(p["free_"]), "cached": num(p["cached_"]),
            "allocs": [num(p["allocs_"][c]) for c in range(n)], "failures": [num(p["failures_"][c]) for c in range(n)],
            "hits": num(p["cache_hits_"]), "misses": num(p["cache_misses_"]),
            "wm": {k: num(w[k]) for k in ("free_min", "free_reserved", "system_min", "interrupt_min", "free_target")}}


# Counters kept in globals, by the namespace of the file that keeps them.
MEMWAIT_COUNTERS = ("vm::kmem", ["g_memwaits", "g_memwait_us"])
PAGEOUT_COUNTERS = ("vm::pageout", ["g_wakeups", "g_swap_passes", "g_emergency_passes", "g_given_back"])
TLB_COUNTERS = ("vm::tlb", ["g_shootdowns", "g_pages", "g_full"])
KSTACK_COUNTERS = ("kstack", ["g_in_use", "g_cached_hart", "g_cached_global", "g_pages", "g_built", "g_destroyed",
                              "g_hits", "g_misses", "g_guard_faults", "g_max_hw", "g_grow_faults", "g_grown",
                              "g_given_back", "g_grow_waits", "g_initial_pages"])
THREAD_COUNTERS = ("kern", ["g_created", "g_reaped"])
SWAP_IDLE = "kstack::swap::g_idle_us"


def cache_figures(caches, hart, cap):
    """zalloc::HartCaches (zalloc/hart_cache.h): allocations of a hart and objects on its list."""
    word = num(caches["slots_"][hart]["hot"]["word"])
    # word = room << ROOM_SHIFT | allocs (zalloc/hart_cache.h)
    room_shift = const("zalloc::ROOM_SHIFT", default=53)
    room = word >> room_shift
    return word & ((1 << room_shift) - 1), (0 if room > cap else cap - room)


def list_size(lst):
    return num(lst["size_"])


def list_items(lst, type_name, node_field, limit=100000):
    """The objects on a lib::List (lib/list.h: a circular list around head_),
    each a gdb.Value of type_name found from its node_field."""
    t = gdb.lookup_type(type_name)
    off = next(f.bitpos for f in t.fields() if f.name == node_field) // 8
    head = int(lst["head_"].address)
    node = lst["head_"]["next"]
    for _ in range(limit):
        if int(node) == head:
            return
        yield gdb.Value(int(node) - off).cast(t.pointer()).dereference()
        node = node.dereference()["next"]


def zone_snapshot(z, dyn):
    """One zone's vmstat -z row, as its snapshot() (zalloc/zone.cc, zalloc/kmalloc_obj.cc) computes it."""
    kind = str(dyn).split("::")[-1]
    nh = z["caches_"]["slots_"].type.range()[1] + 1
    cap = num(z["cache_cap_"])
    if kind == "ObjZone":
        nobjs = num(z["nobjs_"])
        allocs = taken = not_used = 0
        for h in range(nh):
            a, length = cache_figures(z["caches_"], h, cap)
            allocs += a
            taken += num(z["harts_"][h]["taken"])
            not_used += num(z["harts_"][h]["given"]) + length
        n = num(z["nslabs_"])
        used = min(0 if not_used > taken else taken - not_used, n * nobjs)
        rsv = list_size(z["reserve_"])
        parts = [list_size(z[f]) for f in ("partial_", "free_", "exhausted_")]
        fails = num(z["failures_"])
        return {"name": cstr(z["name_"]), "kind": "obj", "size": num(z["obj_size_"]),
                "limit": num(z["cfg_"]["max_slabs"]) * nobjs, "used": used, "free": n * nobjs - used,
                "requests": allocs + fails, "failures": fails, "rsv": f"{rsv}/{num(z['reserve_target_'])}",
                "k": num(z["reserve_target_"]) * nobjs, "hart": n - rsv - sum(parts), "partial": parts[0],
                "sfree": parts[1], "exh": parts[2], "pages": n * const("zalloc::SLAB_PAGES")}
    if kind == "Zone":
        debug = bool(num(z["debug_"]))
        allocs = taken = out = 0
        for h in range(nh):
            a, length = cache_figures(z["caches_"], h, cap)
            c = z["cold_"][h]
            allocs += a
            taken += num(c["taken"])
            out += num(c["given"]) + (num(c["dcount"]) if debug else length)
        total = num(z["total_items_"])
        used = min(0 if out > taken else taken - out, total)
        gfree, zmin = num(z["global_free_"]), num(z["zfreemin_"])
        return {"name": cstr(z["name_"]), "kind": "izone" if num(z["interrupt_"]) else "zone",
                "size": num(z["size_"]), "limit": num(z["max_items_"]), "used": used, "free": total - used,
                "requests": allocs, "failures": num(z["failures_"]), "rsv": f"{min(gfree, zmin)}/{zmin}",
                "k": zmin, "hart": num(z["pages_"]), "partial": 0, "sfree": 0, "exh": 0, "pages": num(z["pages_"])}
    return {"name": cstr(z["name_"]), "kind": kind}


ZONE_LIST = "zalloc::g_zones"        # zalloc/registry.cc: every registered zone
ZONE_BASE = "zalloc::ZoneBase"
ZONE_LIST_NODE = "registry_node"


def swap_sectors_per_block():
    return const("vm::swap::SECTORS_PER_BLOCK", default=8)

# ---- Reading values ----------------------------------------------------------


def num(v):
    """An integer from a scalar, an enum, a std::atomic or a one-member wrapper (HoldCount)."""
    t = v.type.strip_typedefs()
    while t.code == gdb.TYPE_CODE_STRUCT:
        if any(f.name == "_M_i" for f in t.fields()):
            v = v["_M_i"]
        else:
            # The first non-static member (or base class) holds the value.
            v = v[next(f for f in t.fields() if hasattr(f, "bitpos"))]
        t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_BOOL:
        return int(bool(v))
    return int(v)


def enum_name(v):
    return str(v).split("::")[-1].lower()


def stack_state_name(v):
    n = enum_name(v)
    return {"swappingout": "swap-out", "swappingin": "swap-in"}.get(n, n)


def cstr(v):
    return v.string() if int(v) else None


def glob(name):
    """A global by name, also when it is in an anonymous namespace of a .cc file."""
    ns, _, base = name.rpartition("::")
    for cand in (name, f"{ns}::(anonymous namespace)::{base}" if ns else f"(anonymous namespace)::{base}"):
        sym = gdb.lookup_global_symbol(cand) or gdb.lookup_static_symbol(cand)
        if sym is not None:
            return sym.value()
        try:
            return gdb.parse_and_eval(f"'{cand}'")
        except gdb.error:
            pass
    return None


def const(*names, default=None):
    for n in names:
        v = glob(n)
        if v is not None:
            try:
                return int(v)
            except gdb.error:
                pass
    if default is None:
        raise gdb.GdbError(f"zest: {names[0]} not found in the debug info")
    return default


def read(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def u64(b, off=0):
    return int.from_bytes(b[off:off + 8], "little")

# ---- Threads -----------------------------------------------------------------


def threads():
    lst = glob(THREAD_LIST)
    if lst is None:
        raise gdb.GdbError("zest: the thread list (kern/sched/thread.cc g_all) is not in the debug info")
    return [thread_fields(t) for t in list_items(lst, THREAD_TYPE, THREAD_LIST_NODE)]


def find_thread(key):
    ts = threads()
    for t in ts:
        if key.isdigit() and t["id"] == int(key):
            return t
    for t in ts:
        if t["name"] == key:
            return t
    raise gdb.GdbError(f"zest: no thread {key!r}")


class StackImage:
    """A thread's kernel stack, page by page: resident pages from memory,
    swapped ones from the swap image, checked against the swap record."""

    def __init__(self, t):
        self.geo = stack_geometry()
        self.s = stack_fields(t["stack"])
        g = self.geo
        self.bottom = g["base"] + self.s["slot"] * g["slot"] + g["guard"]
        self.top = self.bottom + g["size"]
        self.data = {}    # page index -> bytes
        self.source = {}  # page index -> where it came from
        self._load()

    def _load(self):
        g, s = self.geo, self.s
        meta = s["meta"]
        for p, pa in enumerate(s["pages"]):
            va = self.bottom + p * g["page"]
            if pa:
                try:
                    self.data[p] = read(va, g["page"])
                    self.source[p] = f"resident (pa 0x{pa:x})"
                except gdb.MemoryError:
                    self.data[p] = read(g["direct_map"] + pa, g["page"])
                    self.source[p] = f"resident (pa 0x{pa:x}, through the direct map)"
            elif meta and meta["first"] <= p < meta["first"] + meta["pages"]:
                block = meta["block"] + p - meta["first"]
                data, self.source[p] = read_swap_block(block, meta["sum"][p], g["page"])
                if data is not None:
                    self.data[p] = data
            else:
                self.source[p] = "not mapped"

    def contains(self, addr):
        return self.bottom <= addr < self.top

    def u64(self, addr):
        p = (addr - self.bottom) // self.geo["page"]
        if p not in self.data:
            raise gdb.MemoryError(f"stack page {p} not available")
        return u64(self.data[p], (addr - self.bottom) % self.geo["page"])

    def high_water(self):
        if self.s["state"] != "resident":
            return self.s["high_water"]
        start = self.s["mapped_from"]
        for p in range(start, len(self.s["pages"])):
            b = self.data.get(p)
            if b is None:
                continue
            for off in range(0, len(b), 8):
                if u64(b, off) != self.geo["fill"]:
                    return self.top - (self.bottom + p * self.geo["page"] + off)
        return 0


g_swapfile = {"path": None, "start": None}


def default_swapfile():
    """swap.img next to the kernel gdb loaded: the disk `make qemu-gdb` attaches (build/swap.img)."""
    elf = gdb.current_progspace().filename
    return os.path.join(os.path.dirname(os.path.abspath(elf)) if elf else "build", "swap.img")


def page_checksum(page):
    """kstack/checksum.h's page_checksum, word for word."""
    m = (1 << 64) - 1
    h = 0x9e3779b97f4a7c15 ^ len(page)
    for i in range(len(page) // 8):
        h ^= u64(page, i * 8)
        h = (h * 0xff51afd7ed558ccd) & m
        h ^= h >> 29
    return h


def read_swap_block(block, want, page_size):
    path = g_swapfile["path"] or default_swapfile()
    start = g_swapfile["start"]
    if start is None:
        start = swap_partition_start() or 0
    off = (start + block * swap_sectors_per_block()) * 512
    try:
        with open(path, "rb") as f:
            f.seek(off)
            data = f.read(page_size)
    except OSError as e:
        return None, f"swap block {block}: cannot read {path}: {e.strerror}"
    if len(data) != page_size:
        return None, f"swap block {block}: {path} ends before it"
    got = page_checksum(data)
    if got != want:
        return None, (f"swap block {block} of {path}, CHECKSUM BAD (0x{got:016x}, swap record says 0x{want:016x}):"
                      " not used")
    return data, f"swap block {block} of {path}, checksum ok (0x{got:016x})"

# ---- Backtraces (the algorithm of kern/console/backtrace.cc) -------------------


def text_range():
    return int(gdb.parse_and_eval("(unsigned long)&_text_start")), int(gdb.parse_and_eval("(unsigned long)&_text_end"))


def symbol(pc):
    """(name, offset) as the kernel's ksyms table has them (tools/gen-ksyms.py)."""
    out = gdb.execute(f"info symbol 0x{pc:x}", to_string=True).strip()
    m = re.match(r"^(.*?)(?: \+ (\d+))? in section", out)
    if not m:
        return None, 0
    name = m.group(1).replace("(anonymous namespace)::", "")
    if " [clone" in name:
        name = name[:name.find(" [clone")]
    if name.find("(") > 0:
        name = name[:name.find("(")]
    return name, int(m.group(2) or 0)


def frame_line(n, pc, is_return_address):
    name, off = symbol(pc - 1 if is_return_address else pc)
    if name is None:
        return f"  #{n:<2} 0x{pc:016x} ?"
    return f"  #{n:<2} 0x{pc:016x} {name}+0x{off + (1 if is_return_address else 0):x}"


def backtrace(pc, fp, ra, mem, max_frames=32, at_entry=False):
    lo, hi = text_range()
    is_text = lambda a: lo <= a < hi  # noqa: E731
    te = int(gdb.parse_and_eval("(unsigned long)&trap_entry"))
    te_end = int(gdb.parse_and_eval("(unsigned long)&trap_entry_end"))
    lines = [frame_line(0, pc, False)]
    last_pc, repeats, printed = 0, 0, 1
    n = 1
    if at_entry:
        lines.append(frame_line(1, ra, True))
        last_pc, ra, printed, n = ra, 0, 2, 2

    def flush():
        if repeats:
            lines.append(f"       ... the frame above {repeats} more time{'' if repeats == 1 else 's'}")

    while n < 4096 and printed < max_frames and fp != 0 and fp & 7 == 0:
        try:
            w1, w0 = mem(fp - 8), mem(fp - 16)
        except (gdb.MemoryError, gdb.error):
            break
        if ra and not is_text(w1) and w1 > fp and w1 & 7 == 0:
            next_pc, next_fp = ra, w1
        else:
            next_pc, next_fp = w1, w0
        ra = 0
        if not is_text(next_pc):
            break
        if te < next_pc <= te_end:
            try:
                sepc, s0, tra = trap_frame_regs(next_fp)
            except (gdb.MemoryError, gdb.error):
                break
            flush()
            repeats, last_pc = 0, 0
            lines.append("  -- trap --")
            lines.append(frame_line(n, sepc, False))
            printed += 1
            pc, fp, ra = sepc, s0, tra
            n += 1
            continue
        if next_pc == last_pc:
            repeats += 1
        else:
            flush()
            repeats = 0
            lines.append(frame_line(n, next_pc, True))
            printed += 1
        last_pc = next_pc
        if next_fp <= fp:
            break
        fp = next_fp
        n += 1
    flush()
    return lines


def running_regs(t):
    """pc, s0, ra and gdb thread of the hart running thread t: the one whose
    HartLocal (at tp) names it as current."""
    cur = gdb.selected_thread()
    try:
        for th in gdb.selected_inferior().threads():
            th.switch()
            f = gdb.newest_frame()
            tp = int(f.read_register("tp"))
            if tp and hart_current(tp) == t["addr"]:
                return (int(f.read_register("pc")), int(f.read_register("s0")), int(f.read_register("ra")),
                        th.num)
    finally:
        if cur is not None:
            cur.switch()
    return None


# ---- Commands ----------------------------------------------------------------


class Zest(gdb.Command):
    """Zest kernel commands: zest threads | bt ID|NAME | swapfile PATH [SECTOR] | vmstat | zones | stacks"""

    def __init__(self):
        super().__init__("zest", gdb.COMMAND_USER, gdb.COMPLETE_NONE, True)


class Threads(gdb.Command):
    """Every live thread, as the shell's ps lists them."""

    def __init__(self):
        super().__init__("zest threads", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        print(f"{'id':>5} {'name':<16} {'state':<9} {'hart':>4} {'prio':>4}  {'wait':<14} {'stack':>6} "
              f"{'stack-st':<9} {'holds':>5} mode")
        ts = threads()
        for t in ts:
            if t["stack"]:
                img = StackImage(t)
                sstate, hw = img.s["state"], img.high_water()
            else:
                sstate, hw = "boot", 0
            wait = t["wait_reason"] if t["state"] == "sleeping" and t["wait_reason"] else "-"
            mode = f"user, task {t['task_id']}" if t["task_id"] is not None else "kernel"
            print(f"{t['id']:>5} {t['name']:<16} {t['state']:<9} {t['hart']:>4} {t['priority']:>4}  {wait:<14} "
                  f"{hw:>6} {sstate:<9} {t['holds']:>5} {mode}")
        c = counters(*THREAD_COUNTERS)
        print(f"{len(ts)} threads; {c['g_created']} created, {c['g_reaped']} reaped since boot")


class Bt(gdb.Command):
    """zest bt ID|NAME: backtrace of a thread, from its saved context or its hart."""

    def __init__(self):
        super().__init__("zest bt", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: zest bt ID|NAME")
        t = find_thread(arg.strip())
        print(f"thread {t['id']} ({t['name']}), {t['state']}")
        img = StackImage(t) if t["stack"] else None
        if img:
            print(f"stack: slot {img.s['slot']}, 0x{img.bottom:x}-0x{img.top:x}, {img.s['state']}")
            for p in sorted(img.source):
                print(f"  page {p} (0x{img.bottom + p * img.geo['page']:x}): {img.source[p]}")
        def mem(addr):
            if img and img.contains(addr):
                return img.u64(addr)
            return u64(read(addr, 8))

        regs = running_regs(t) if t["on_cpu"] or t["state"] == "running" else None
        if regs:
            pc, fp, ra, hart = regs
            print(f"running: registers of gdb thread {hart}")
        else:
            try:
                pc, fp, ra, how = saved_regs(t, mem)
            except (gdb.MemoryError, gdb.error) as e:
                print(f"its saved registers are in its SwitchFrame on its stack, which cannot be read: {e}")
                return
            print(f"from its saved context: {how}")

        print("backtrace:")
        # Stopped at a function's first instruction (a breakpoint): its frame
        # record is not built yet, so its caller is only in ra.
        at_entry = bool(regs) and symbol(pc)[1] == 0
        lines = backtrace(pc, fp, ra, mem, at_entry=at_entry)
        for line in lines:
            print(line)


class Swapfile(gdb.Command):
    """zest swapfile PATH [SECTOR]: the host file behind the swap device (default build/swap.img)."""

    def __init__(self):
        super().__init__("zest swapfile", gdb.COMMAND_USER, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        parts = gdb.string_to_argv(arg)
        if not parts:
            print(f"swap image: {g_swapfile['path'] or default_swapfile()}")
            return
        g_swapfile["path"] = os.path.abspath(parts[0])
        g_swapfile["start"] = int(parts[1], 0) if len(parts) > 1 else None
        print(f"swap image: {g_swapfile['path']}")


def counters(prefix, names):
    """Integer globals prefix::name (anonymous namespaces included) as a dict by name."""
    return {n: num(glob(f"{prefix}::{n}")) for n in names}


class Vmstat(gdb.Command):
    """The figures of the shell's vmstat, from memory."""

    def __init__(self):
        super().__init__("zest vmstat", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        p = phys_figures()
        total, free, wm = p["total"], p["free"], p["wm"]
        print(f"pages: {total} total, {free} free ({p['cached']} in per-hart caches), {total - free} wired "
              f"({free * 4} KiB free)")
        print("watermarks: " + ", ".join(f"{k} {v}" for k, v in wm.items()))
        print(f"reserve: normal callers stop at {wm['free_reserved']} free pages, system at {wm['interrupt_min']}, "
              "interrupt may take the last")
        names = ["normal", "system", "interrupt"]
        for c, (a, f) in enumerate(zip(p["allocs"], p["failures"])):
            print(f"  {names[c] if c < 3 else c:<9} {a:>10} allocations {f:>8} failures")
        print(f"per-hart page caches: {p['hits']} hits, {p['misses']} misses")
        mw = counters(*MEMWAIT_COUNTERS)
        print(f"waits for memory: {mw['g_memwaits']} ({mw['g_memwait_us'] // 1000} ms waiting in all)")
        c = glob(SWAP_COUNTERS)
        sw = {f.name: num(c[f.name]) for f in c.type.strip_typedefs().fields()}
        print(f"paging: {sw['swap_outs']} stack swap-outs ({sw['pages_out']} pages freed), {sw['swap_ins']} swap-ins "
              f"({sw['at_wakeup']} at the wakeup, {sw['early']} early), {sw['swapped']} now swapped")
        print(f"  {sw['cancelled']} cancelled by a wakeup; woken threads waited {sw['wait_us'] // 1000} ms for their "
              f"stacks ({sw['waits']} waits)")
        po = counters(*PAGEOUT_COUNTERS)
        idle = num(glob(SWAP_IDLE))
        print(f"  pagedaemon: {po['g_wakeups']} wakeups, {po['g_swap_passes']} swap passes; emergency pager passes "
              f"{po['g_emergency_passes']}; idle threshold {idle // 1000} ms")
        t = counters(*TLB_COUNTERS)
        print(f"tlb shootdowns: {t['g_shootdowns']} ({t['g_pages']} pages, {t['g_full']} full flushes)")


class Stacks(gdb.Command):
    """The figures of the shell's kstack command, from memory."""

    def __init__(self):
        super().__init__("zest stacks", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        g = stack_geometry()
        npages = g["size"] // g["page"]
        s = counters(*KSTACK_COUNTERS)
        print(f"kernel stacks: {g['size'] // 1024} KiB slots of stack, guard {g['guard'] // 1024} KiB below (and the next slot's above); "
              f"new stacks map {s['g_initial_pages']} page(s) and grow on demand")
        print(f"  in use {s['g_in_use']}, cached {s['g_cached_hart']} per-hart + {s['g_cached_global']} global")
        hist = [0] * (npages + 1)
        for t in threads():
            if t["stack"]:
                hist[sum(1 for pa in stack_fields(t["stack"])["pages"] if pa)] += 1
        print("  live threads by resident pages: " + " ".join(f"{k}:{v}" for k, v in enumerate(hist)) +
              " (0 = on swap)")
        th = sum(hist)
        pages = sum(k * v for k, v in enumerate(hist))
        if th:
            fixed = th * npages
            print(f"  their stacks: {pages * 4} KiB resident, {fixed * 4} KiB with fixed {g['size'] // 1024} KiB "
                  f"stacks: {(fixed - pages) * 100 // fixed}% saved")
        print(f"  stack object: {s['g_pages']} resident pages ({s['g_pages'] * 4} KiB, cached stacks included)")
        print(f"  growth: {s['g_grow_faults']} faults, {s['g_grown']} pages mapped, {s['g_grow_waits']} waits for "
              f"memory; {s['g_given_back']} pages given back by the pagedaemon")
        look = s["g_hits"] + s["g_misses"]
        print(f"  built {s['g_built']}, destroyed {s['g_destroyed']}; cache hits {s['g_hits']} of {look} "
              f"({s['g_hits'] * 100 // look if look else 0}%)")
        print(f"  guard faults {s['g_guard_faults']}; deepest use seen {s['g_max_hw']} bytes")


class Zones(gdb.Command):
    """The shell's vmstat -z: every registered zone, from memory."""

    def __init__(self):
        super().__init__("zest zones", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        zones = list_items(glob(ZONE_LIST), ZONE_BASE, ZONE_LIST_NODE, limit=10000)
        print(f"{'ZONE':<16} {'KIND':<5} {'SIZE':>5} {'LIMIT':>8} {'USED':>8} {'FREE':>8} {'REQUESTS':>10} "
              f"{'FAIL':>6} {'RSV':>7} {'K':>7} {'HART':>4} {'PART':>4} {'FREE':>4} {'EXH':>4} {'PAGES':>6}")
        for z in zones:
            dyn = z.dynamic_type
            r = zone_snapshot(z.cast(dyn), dyn)
            if "used" not in r:
                print(f"{r['name']:<16} {r['kind']} (a zone kind this script does not know)")
            else:
                print(f"{r['name']:<16} {r['kind']:<5} {r['size']:>5} {r['limit']:>8} {r['used']:>8} {r['free']:>8} "
                      f"{r['requests']:>10} {r['failures']:>6} {r['rsv']:>7} {r['k']:>7} {r['hart']:>4} "
                      f"{r['partial']:>4} {r['sfree']:>4} {r['exh']:>4} {r['pages']:>6}")


Zest()
Threads()
Bt()
Swapfile()
Vmstat()
Stacks()
Zones()
