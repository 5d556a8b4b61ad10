// dev/gpt.cc: GPT parsing over disk images built here (protective MBR,
// header at LBA 1, entry array at LBA 2, both CRCs), valid and corrupted;
// lib/crc32.cc against known values.
#include "dev/gpt.h"
#include "lib/crc32.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace dev::gpt;

namespace {

constexpr uint8_t BASIC_DATA[16] = {0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
                                    0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7};

struct Entry {
    unsigned slot;  // 1-based entry number
    uint64_t first, last;
    const uint8_t* type;
    const char* name;
};

void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); }
void put32(uint8_t* p, uint32_t v) { put16(p, uint16_t(v)); put16(p + 2, uint16_t(v >> 16)); }
void put64(uint8_t* p, uint64_t v) { put32(p, uint32_t(v)); put32(p + 4, uint32_t(v >> 32)); }
uint32_t get32(const uint8_t* p) { return uint32_t(p[0]) | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }

// A disk image with a primary GPT, built the way sgdisk lays one out.
struct Disk {
    std::vector<uint8_t> img;
    uint64_t sectors;
    uint32_t nentries, esize;
    int fail_read_at = -1; // a sector whose read fails

    explicit Disk(uint64_t nsec, uint32_t entries = 128, uint32_t entry_size = 128)
        : img(nsec * 512), sectors(nsec), nentries(entries), esize(entry_size)
    {
        uint8_t* mbr = &img[0];
        mbr[446 + 4] = 0xee; // protective entry
        put32(mbr + 446 + 8, 1);
        put32(mbr + 446 + 12, uint32_t(nsec - 1));
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        uint8_t* h = header();
        memcpy(h, "EFI PART", 8);
        put32(h + 8, 0x00010000);
        put32(h + 12, 92);
        put64(h + 24, 1);            // my_lba
        put64(h + 32, nsec - 1);     // alternate_lba
        uint64_t array_sectors = (uint64_t(entries) * entry_size + 511) / 512;
        put64(h + 40, 2 + array_sectors);     // first usable
        put64(h + 48, nsec - 2 - array_sectors); // last usable (room for the backup)
        for (int i = 0; i < 16; i++)
            h[56 + i] = uint8_t(0x11 * i);    // disk GUID
        put64(h + 72, 2);
        put32(h + 80, entries);
        put32(h + 84, entry_size);
        seal();
    }
    uint8_t* header() { return &img[512]; }
    uint8_t* entry(unsigned slot) { return &img[1024 + size_t(slot - 1) * esize]; }
    uint64_t first_usable() { uint64_t v; memcpy(&v, header() + 40, 8); return v; }

    void add(const Entry& e)
    {
        uint8_t* p = entry(e.slot);
        memcpy(p, e.type, 16);
        for (int i = 0; i < 16; i++)
            p[16 + i] = uint8_t(e.slot * 7 + i); // unique GUID
        put64(p + 32, e.first);
        put64(p + 40, e.last);
        for (size_t i = 0; e.name && e.name[i]; i++)
            put16(p + 56 + 2 * i, uint8_t(e.name[i]));
        seal();
    }
    // Both CRCs, array first (the header holds the array's CRC).
    void seal()
    {
        uint8_t* h = header();
        put32(h + 88, lib::crc32(&img[1024], size_t(nentries) * esize));
        put32(h + 16, 0);
        put32(h + 16, lib::crc32(h, get32(h + 12)));
    }
    Result parse(Table& t, uint64_t disk_sectors = 0)
    {
        return dev::gpt::parse([this](uint64_t lba, uint8_t* buf) { return read(lba, buf); },
                               disk_sectors ? disk_sectors : sectors, t);
    }
    bool read(uint64_t lba, uint8_t* buf)
    {
        if (int64_t(lba) == fail_read_at || lba >= img.size() / 512)
            return false;
        memcpy(buf, &img[lba * 512], 512);
        return true;
    }
};

// The card layout of tools/mksdcard.sh, scaled down: entries 1, 2, 3, 4 with
// entry 3 left empty here to check that empty entries are skipped.
Disk sample()
{
    Disk d(32768);
    d.add({1, 34, 2081, BASIC_DATA, "spl"});
    d.add({2, 2082, 10273, BASIC_DATA, "uboot"});
    d.add({4, 16384, 24575, LINUX_SWAP, "zest-swap"});
    return d;
}

std::string message(const Result& r)
{
    char buf[160];
    return describe(r, buf, sizeof buf);
}

} // namespace

TEST_CASE("crc32: IEEE check values, and in pieces")
{
    CHECK(lib::crc32("123456789", 9) == 0xCBF43926u);
    CHECK(lib::crc32("", 0) == 0u);
    CHECK(lib::crc32("The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
    CHECK(lib::crc32("56789", 5, lib::crc32("1234", 4)) == 0xCBF43926u);
}

TEST_CASE("gpt: GUIDs print in the usual mixed-endian form")
{
    char buf[40];
    format_guid(LINUX_SWAP, buf, sizeof buf);
    CHECK(std::string(buf) == "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F");
    format_guid(BASIC_DATA, buf, sizeof buf);
    CHECK(std::string(buf) == "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
    CHECK(guid_equal(LINUX_SWAP, LINUX_SWAP));
    CHECK(!guid_equal(LINUX_SWAP, BASIC_DATA));
}

TEST_CASE("gpt: a valid table, empty entries skipped, names decoded")
{
    Disk d = sample();
    Table t;
    Result r = d.parse(t);
    REQUIRE(r.ok());
    CHECK(t.entries == 128);
    CHECK(t.entry_size == 128);
    CHECK(t.first_usable == 34);
    CHECK(t.last_usable == 32768 - 34);
    REQUIRE(t.count == 3);
    CHECK(t.parts[0].index == 1);
    CHECK(t.parts[0].first_lba == 34);
    CHECK(t.parts[0].last_lba == 2081);
    CHECK(t.parts[0].sectors() == 2048);
    CHECK(std::string(t.parts[0].name) == "spl");
    CHECK(t.parts[1].index == 2);
    CHECK(std::string(t.parts[1].name) == "uboot");
    CHECK(t.parts[2].index == 4);
    CHECK(std::string(t.parts[2].name) == "zest-swap");
    CHECK(guid_equal(t.parts[2].type, LINUX_SWAP));
    CHECK(guid_equal(t.parts[0].type, BASIC_DATA));
    CHECK(message(r) == "valid GPT");
}

TEST_CASE("gpt: a 36-character name and a non-ASCII one")
{
    Disk d(4096);
    d.add({1, 100, 199, BASIC_DATA, "abcdefghijklmnopqrstuvwxyz0123456789"});
    d.add({2, 200, 299, BASIC_DATA, "x"});
    put16(d.entry(2) + 56 + 2, 0x00e9); // "xé"
    put16(d.entry(2) + 56 + 4, 'z');
    d.seal();
    Table t;
    REQUIRE(d.parse(t).ok());
    REQUIRE(t.count == 2);
    CHECK(std::string(t.parts[0].name) == "abcdefghijklmnopqrstuvwxyz0123456789");
    CHECK(std::string(t.parts[1].name) == "x?z");
}

TEST_CASE("gpt: an empty table is valid and has no partitions")
{
    Disk d(4096);
    Table t;
    CHECK(d.parse(t).ok());
    CHECK(t.count == 0);
}

TEST_CASE("gpt: entries that straddle sectors (entry size 136)")
{
    Disk d(8192, 100, 136);
    for (unsigned i = 1; i <= 16; i++)
        d.add({i * 6, 1000 + i * 100, 1000 + i * 100 + 99, BASIC_DATA, "p"});
    Table t;
    Result r = d.parse(t);
    REQUIRE(r.ok());
    REQUIRE(t.count == 16);
    for (unsigned i = 0; i < 16; i++) {
        CHECK(t.parts[i].index == (i + 1) * 6);
        CHECK(t.parts[i].first_lba == 1000 + (i + 1) * 100);
        CHECK(std::string(t.parts[i].name) == "p");
    }
}

TEST_CASE("gpt: no signature is no GPT, not an error")
{
    Disk d = sample();
    d.header()[0] = 'X';
    Table t;
    Result r = d.parse(t);
    CHECK(r.error == Error::NoGpt);
    CHECK(t.count == 0);
    Disk zero(100);
    memset(zero.img.data(), 0, zero.img.size());
    CHECK(zero.parse(t).error == Error::NoGpt);
}

TEST_CASE("gpt: header CRC")
{
    Disk d = sample();
    d.header()[40] ^= 1; // first usable, CRC not updated
    Table t;
    Result r = d.parse(t);
    CHECK(r.error == Error::HeaderCrc);
    CHECK(message(r) == "GPT header CRC mismatch");
    CHECK(t.count == 0);
}

TEST_CASE("gpt: partition entries CRC")
{
    Disk d = sample();
    d.entry(2)[40] ^= 1;
    Table t;
    Result r = d.parse(t);
    CHECK(r.error == Error::EntriesCrc);
    CHECK(message(r) == "GPT partition entries CRC mismatch");
    CHECK(t.count == 0);
    // A byte of an unused entry counts too.
    Disk e = sample();
    e.entry(100)[77] = 1;
    CHECK(e.parse(t).error == Error::EntriesCrc);
    // A corrupt array is reported as such even if an entry also looks wrong.
    Disk f = sample();
    put64(f.entry(1) + 40, 1u << 30);
    f.seal();
    f.entry(50)[0] = 1;
    CHECK(f.parse(t).error == Error::EntriesCrc);
}

TEST_CASE("gpt: no protective MBR")
{
    Disk d = sample();
    d.img[510] = 0;
    Table t;
    CHECK(d.parse(t).error == Error::NoProtectiveMbr);
    Disk e = sample();
    e.img[446 + 4] = 0x83; // a plain MBR partition, no 0xEE
    CHECK(e.parse(t).error == Error::NoProtectiveMbr);
    Disk h = sample(); // hybrid MBR: 0xEE in the second slot
    h.img[446 + 4] = 0x0c;
    h.img[446 + 16 + 4] = 0xee;
    CHECK(h.parse(t).ok());
}

TEST_CASE("gpt: header fields")
{
    Table t;
    auto with = [&](int off, int bytes, uint64_t v) {
        Disk d = sample();
        if (bytes == 4)
            put32(d.header() + off, uint32_t(v));
        else
            put64(d.header() + off, v);
        d.seal();
        return d.parse(t);
    };
    CHECK(with(8, 4, 0x00020000).error == Error::BadRevision);
    CHECK(with(12, 4, 91).error == Error::BadHeaderSize);
    CHECK(with(12, 4, 513).error == Error::BadHeaderSize);
    CHECK(with(12, 4, 512).ok()); // the rest of the sector is under the CRC then
    CHECK(with(24, 8, 2).error == Error::BadMyLba);
    CHECK(with(40, 8, 1).error == Error::BadUsableRange);          // over the header
    CHECK(with(48, 8, 32768).error == Error::BadUsableRange);      // past the disk
    CHECK(with(40, 8, 32740).error == Error::BadUsableRange);      // first > last
    CHECK(with(40, 8, 20000).error == Error::EntryOutsideUsable);  // partition 1 now outside
    CHECK(with(84, 4, 64).error == Error::BadEntrySize);
    CHECK(with(84, 4, 132).error == Error::BadEntrySize);
    CHECK(with(84, 4, 1u << 20).error == Error::BadEntrySize);
    CHECK(with(80, 4, 0).error == Error::BadEntryCount);
    CHECK(with(80, 4, 100000).error == Error::BadEntryCount);
    CHECK(with(80, 4, 0xffffffff).error == Error::BadEntryCount);
    CHECK(with(72, 8, 40000).error == Error::BadEntryArray);        // past the disk
    CHECK(with(72, 8, 100).error == Error::BadEntryArray);          // inside the usable range
    CHECK(message(with(80, 4, 100000)) == "GPT entry count 100000 out of range (1..1024)");
}

TEST_CASE("gpt: a disk too small")
{
    Disk d = sample();
    Table t;
    CHECK(d.parse(t, 2).error == Error::DiskTooSmall);
    CHECK(message(d.parse(t, 2)) == "disk of 2 sectors is too small for a GPT");
    // The header made for 32768 sectors on a disk of 1000: its usable range
    // runs past the end.
    CHECK(d.parse(t, 1000).error == Error::BadUsableRange);
    // A disk that holds the header but not the entry array.
    CHECK(d.parse(t, 20).error == Error::BadUsableRange);
}

TEST_CASE("gpt: a partition beyond the disk")
{
    Disk d = sample();
    d.add({3, 30000, 40000, BASIC_DATA, "big"});
    Table t;
    Result r = d.parse(t);
    CHECK(r.error == Error::EntryBeyondDisk);
    CHECK(r.entry == 3);
    CHECK(message(r) == "partition 3 ends beyond the disk (last LBA 40000)");
    CHECK(t.count == 0);
}

TEST_CASE("gpt: a partition outside the usable range, or backwards")
{
    Disk d = sample();
    d.add({3, 32768 - 20, 32768 - 1, BASIC_DATA, "backup"}); // over the backup GPT
    Table t;
    Result r = d.parse(t);
    CHECK(r.error == Error::EntryOutsideUsable);
    CHECK(r.entry == 3);
    Disk e = sample();
    e.add({3, 2, 30, BASIC_DATA, "array"}); // over the entry array
    CHECK(e.parse(t).error == Error::EntryOutsideUsable);
    Disk f = sample();
    f.add({3, 12000, 11000, BASIC_DATA, "back"});
    r = f.parse(t);
    CHECK(r.error == Error::EntryBackwards);
    CHECK(message(r) == "partition 3 ends before it starts (first LBA 12000)");
}

TEST_CASE("gpt: overlapping partitions")
{
    Disk d = sample();
    d.add({3, 10000, 16384, BASIC_DATA, "over"}); // last sector is partition 4's first
    Table t;
    Result r = d.parse(t);
    CHECK(r.error == Error::EntryOverlap);
    CHECK(message(r) == "partitions 2 and 3 overlap");
    CHECK(t.count == 0);
    Disk e(4096);
    e.add({1, 100, 199, BASIC_DATA, "a"});
    e.add({2, 150, 160, BASIC_DATA, "inside"});
    r = e.parse(t);
    CHECK(r.error == Error::EntryOverlap);
    CHECK(message(r) == "partitions 1 and 2 overlap");
    Disk f(4096); // touching is fine
    f.add({1, 100, 199, BASIC_DATA, "a"});
    f.add({2, 200, 299, BASIC_DATA, "b"});
    CHECK(f.parse(t).ok());
}

TEST_CASE("gpt: more partitions than kept")
{
    Disk d(8192);
    for (unsigned i = 1; i <= MAX_PARTITIONS + 1; i++)
        d.add({i, 100 + i * 10, 100 + i * 10 + 9, BASIC_DATA, "p"});
    Table t;
    Result r = d.parse(t);
    CHECK(r.error == Error::TooManyPartitions);
    CHECK(r.entry == MAX_PARTITIONS + 1);
    CHECK(t.count == 0);
}

TEST_CASE("gpt: read errors")
{
    Table t;
    for (int s : {0, 1, 2, 33}) {
        Disk d = sample();
        d.fail_read_at = s;
        Result r = d.parse(t);
        CHECK(r.error == Error::ReadFailed);
        CHECK(r.value == uint64_t(s));
        CHECK(t.count == 0);
    }
}
