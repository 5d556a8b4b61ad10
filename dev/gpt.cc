#include "dev/gpt.h"

#include "lib/crc32.h"
#include "lib/format.h"
#include "lib/string.h"

#include <cstdarg>

namespace dev::gpt {

const Guid LINUX_SWAP = {0x6d, 0xfd, 0x57, 0x06, 0xab, 0xa4, 0xc4, 0x43,
                         0x84, 0xe5, 0x09, 0x33, 0xc8, 0x4b, 0x4f, 0x4f};

namespace {

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) { return uint32_t(le16(p)) | uint32_t(le16(p + 2)) << 16; }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

Result fail(Error e, uint64_t value = 0, unsigned entry = 0, unsigned other = 0)
{
    Result r;
    r.error = e;
    r.value = value;
    r.entry = entry;
    r.other = other;
    return r;
}

bool all_zero(const uint8_t* p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

// Check one used entry (its first 128 bytes in e) and, if it passes, keep it.
// Returns the entry's error, if any.
Result take_entry(const uint8_t* e, unsigned index, uint64_t disk_sectors, Table& out)
{
    uint64_t first = le64(e + 32), last = le64(e + 40);
    if (first > last)
        return fail(Error::EntryBackwards, first, index);
    if (last >= disk_sectors)
        return fail(Error::EntryBeyondDisk, last, index);
    if (first < out.first_usable || last > out.last_usable)
        return fail(Error::EntryOutsideUsable, first < out.first_usable ? first : last, index);
    if (out.count == MAX_PARTITIONS)
        return fail(Error::TooManyPartitions, MAX_PARTITIONS, index);
    Partition& p = out.parts[out.count++];
    p.index = index;
    p.first_lba = first;
    p.last_lba = last;
    memcpy(p.type, e, sizeof p.type);
    size_t n = 0;
    for (; n < 36; n++) {
        uint16_t c = le16(e + 56 + 2 * n);
        if (c == 0)
            break;
        p.name[n] = c >= 0x20 && c < 0x7f ? char(c) : '?';
    }
    p.name[n] = '\0';
    return {};
}

void putf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void putf(char* buf, size_t size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lib::vformat_buf(buf, size, fmt, ap);
    va_end(ap);
}

} // namespace

void format_guid(const Guid g, char* buf, size_t size)
{
    if (size == 0)
        return;
    char tmp[40];
    const char* hex = "0123456789ABCDEF";
    // Data1..3 little-endian, Data4 in byte order.
    static constexpr int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            tmp[o++] = '-';
        tmp[o++] = hex[g[order[i]] >> 4];
        tmp[o++] = hex[g[order[i]] & 15];
    }
    tmp[o] = '\0';
    size_t n = o < size - 1 ? o : size - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
}

bool guid_equal(const Guid a, const Guid b) { return memcmp(a, b, sizeof(Guid)) == 0; }

namespace {

Result parse_into(ReadSector read, uint64_t disk_sectors, Table& out)
{
    if (disk_sectors < 3)
        return fail(Error::DiskTooSmall, disk_sectors);
    uint8_t sec[SECTOR];

    // The header first: without its signature there is no GPT to talk about.
    if (!read(1, sec))
        return fail(Error::ReadFailed, 1);
    if (memcmp(sec, "EFI PART", 8) != 0)
        return fail(Error::NoGpt);
    uint32_t revision = le32(sec + 8), hsize = le32(sec + 12), hcrc = le32(sec + 16);
    uint64_t my_lba = le64(sec + 24);
    uint64_t first_usable = le64(sec + 40), last_usable = le64(sec + 48);
    uint64_t array_lba = le64(sec + 72);
    uint32_t nentries = le32(sec + 80), esize = le32(sec + 84), array_crc = le32(sec + 88);
    if (revision >> 16 != 1)
        return fail(Error::BadRevision, revision);
    if (hsize < 92 || hsize > SECTOR)
        return fail(Error::BadHeaderSize, hsize);
    sec[16] = sec[17] = sec[18] = sec[19] = 0;
    uint32_t crc = lib::crc32(sec, hsize);
    if (crc != hcrc)
        return fail(Error::HeaderCrc, crc);

    // The protective MBR, loosely.
    if (!read(0, sec))
        return fail(Error::ReadFailed, 0);
    bool protective = sec[510] == 0x55 && sec[511] == 0xaa;
    if (protective) {
        protective = false;
        for (int i = 0; i < 4; i++)
            if (sec[446 + 16 * i + 4] == 0xee)
                protective = true;
    }
    if (!protective)
        return fail(Error::NoProtectiveMbr);

    if (my_lba != 1)
        return fail(Error::BadMyLba, my_lba);
    if (first_usable < 2 || first_usable > last_usable || last_usable >= disk_sectors)
        return fail(Error::BadUsableRange, last_usable >= disk_sectors ? last_usable : first_usable);
    if (esize < 128 || esize % 8 || esize > MAX_ENTRY_SIZE)
        return fail(Error::BadEntrySize, esize);
    if (nentries == 0 || nentries > MAX_ENTRIES)
        return fail(Error::BadEntryCount, nentries);
    uint64_t array_bytes = uint64_t(nentries) * esize;
    uint64_t array_sectors = (array_bytes + SECTOR - 1) / SECTOR;
    if (array_lba < 2 || array_lba >= disk_sectors || array_sectors > disk_sectors - array_lba ||
        (array_lba <= last_usable && array_lba + array_sectors > first_usable))
        return fail(Error::BadEntryArray, array_lba);

    out.first_usable = first_usable;
    out.last_usable = last_usable;
    out.entries = nentries;
    out.entry_size = esize;

    // One pass over the array: the CRC over every byte, each entry's first
    // 128 bytes gathered (an entry may straddle two sectors), the first entry
    // error remembered until the CRC says the array is intact.
    uint8_t entry[128];
    uint32_t acrc = 0;
    Result first_error;
    uint64_t off = 0; // byte offset in the array
    for (uint64_t s = 0; s < array_sectors; s++) {
        if (!read(array_lba + s, sec))
            return fail(Error::ReadFailed, array_lba + s);
        uint64_t n = array_bytes - off < SECTOR ? array_bytes - off : SECTOR;
        acrc = lib::crc32(sec, size_t(n), acrc);
        for (uint64_t i = 0; i < n; i++, off++) {
            uint64_t within = off % esize;
            if (within >= sizeof entry)
                continue;
            entry[within] = sec[i];
            if (within != sizeof entry - 1 || !first_error.ok())
                continue;
            unsigned index = unsigned(off / esize) + 1;
            if (all_zero(entry, 16))
                continue; // unused
            first_error = take_entry(entry, index, disk_sectors, out);
        }
    }
    if (acrc != array_crc)
        return fail(Error::EntriesCrc, acrc);
    if (!first_error.ok())
        return first_error;
    for (unsigned i = 0; i < out.count; i++)
        for (unsigned j = i + 1; j < out.count; j++) {
            const Partition &a = out.parts[i], &b = out.parts[j];
            if (a.first_lba <= b.last_lba && b.first_lba <= a.last_lba)
                return fail(Error::EntryOverlap, b.first_lba, a.index, b.index);
        }
    return {};
}

} // namespace

Result parse(ReadSector read, uint64_t disk_sectors, Table& out)
{
    out = Table {};
    Result r = parse_into(read, disk_sectors, out);
    if (!r.ok())
        out.count = 0; // nothing half-parsed is ever handed out
    return r;
}

const char* describe(const Result& r, char* buf, size_t size)
{
    unsigned long long v = r.value;
    switch (r.error) {
    case Error::None: putf(buf, size, "valid GPT"); break;
    case Error::NoGpt: putf(buf, size, "no GPT (no \"EFI PART\" signature at LBA 1)"); break;
    case Error::ReadFailed: putf(buf, size, "reading sector %llu failed", v); break;
    case Error::DiskTooSmall: putf(buf, size, "disk of %llu sectors is too small for a GPT", v); break;
    case Error::NoProtectiveMbr: putf(buf, size, "GPT without a protective MBR (no 0x55AA signature or no type 0xEE entry)"); break;
    case Error::BadRevision: putf(buf, size, "GPT header revision 0x%08llx not supported", v); break;
    case Error::BadHeaderSize: putf(buf, size, "GPT header size %llu out of range (92..512)", v); break;
    case Error::HeaderCrc: putf(buf, size, "GPT header CRC mismatch"); break;
    case Error::BadMyLba: putf(buf, size, "GPT header says it is at LBA %llu, not 1", v); break;
    case Error::BadUsableRange: putf(buf, size, "GPT usable range is not inside the disk (LBA %llu)", v); break;
    case Error::BadEntrySize: putf(buf, size, "GPT entry size %llu is not a multiple of 8 in 128..4096", v); break;
    case Error::BadEntryCount: putf(buf, size, "GPT entry count %llu out of range (1..1024)", v); break;
    case Error::BadEntryArray: putf(buf, size, "GPT entry array at LBA %llu is outside the disk or inside the usable range", v); break;
    case Error::EntriesCrc: putf(buf, size, "GPT partition entries CRC mismatch"); break;
    case Error::EntryBackwards: putf(buf, size, "partition %u ends before it starts (first LBA %llu)", r.entry, v); break;
    case Error::EntryBeyondDisk: putf(buf, size, "partition %u ends beyond the disk (last LBA %llu)", r.entry, v); break;
    case Error::EntryOutsideUsable: putf(buf, size, "partition %u lies outside the usable range (LBA %llu)", r.entry, v); break;
    case Error::EntryOverlap: putf(buf, size, "partitions %u and %u overlap", r.entry, r.other); break;
    case Error::TooManyPartitions: putf(buf, size, "more than %llu partitions in use (partition %u)", v, r.entry); break;
    }
    return buf;
}

} // namespace dev::gpt
