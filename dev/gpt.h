// GUID partition tables (UEFI 2.x, chapter 5), read from 512-byte sectors.
// Hardware-free: the sectors come through a callback, so the host tests feed
// it images built in memory and the kernel (dev/partition.cc) a block device.
//
// What is checked:
//   - the protective MBR, loosely: the 0x55AA signature and one of its four
//     entries of type 0xEE (a hybrid MBR passes); its sizes are not checked;
//   - the primary header at LBA 1: signature "EFI PART" (without it the disk
//     simply has no GPT: Error::NoGpt), revision 1.x, header size 92..512,
//     the header CRC32 (over header_size bytes, CRC field zeroed), my_lba == 1,
//     first_usable <= last_usable < disk size, entry size >= 128 and a
//     multiple of 8 (at most 4096), 1..1024 entries, the entry array inside
//     the disk and outside the usable range, and the array's CRC32;
//   - each used entry (type GUID not all zero): first <= last, inside the
//     disk and the usable range, no two overlapping, at most MAX_PARTITIONS.
// The backup header and array at the end of the disk are never read: a
// damaged primary table is reported, not repaired from the backup (and
// alternate_lba is not checked, so a card image written to a larger card
// without `sgdisk -e` is fine).
//
// Errors about the array's entries are reported only once the array's CRC
// matched, so a corrupt array is always "GPT partition entries CRC mismatch".
#pragma once

#include "lib/function_ref.h"

#include <cstddef>
#include <cstdint>

namespace dev::gpt {

constexpr uint32_t SECTOR = 512;
constexpr unsigned MAX_PARTITIONS = 16;
constexpr uint32_t MAX_ENTRIES = 1024;
constexpr uint32_t MAX_ENTRY_SIZE = 4096;

// A GUID as GPT stores it (the first three fields little-endian).
using Guid = uint8_t[16];

// 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, Linux swap.
extern const Guid LINUX_SWAP;

// "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" (buf: at least 37 bytes).
void format_guid(const Guid g, char* buf, size_t size);
[[nodiscard]] bool guid_equal(const Guid a, const Guid b);

struct Partition {
    unsigned index;       // 1-based entry number (vda1 is entry 1)
    uint64_t first_lba, last_lba; // inclusive
    Guid type;
    char name[37];        // the UTF-16LE name, non-ASCII code units as '?'
    [[nodiscard]] uint64_t sectors() const { return last_lba - first_lba + 1; }
};

struct Table {
    uint64_t first_usable = 0, last_usable = 0;
    uint32_t entries = 0, entry_size = 0; // the array's shape
    unsigned count = 0;                   // used entries, in entry order
    Partition parts[MAX_PARTITIONS];
};

enum class Error {
    None,
    NoGpt,            // no "EFI PART" at LBA 1: not a GPT disk (not an error to report)
    ReadFailed,       // the callback failed (value: which sector; 1, the header, is read first)
    DiskTooSmall,     // fewer than 3 sectors
    NoProtectiveMbr,  // no 0x55AA signature, or no entry of type 0xEE
    BadRevision,
    BadHeaderSize,
    HeaderCrc,
    BadMyLba,
    BadUsableRange,
    BadEntrySize,
    BadEntryCount,
    BadEntryArray,    // the array is outside the disk or overlaps the usable range
    EntriesCrc,
    EntryBackwards,   // partition `entry`: first > last
    EntryBeyondDisk,  // partition `entry` ends beyond the disk
    EntryOutsideUsable,
    EntryOverlap,     // partitions `entry` and `other` overlap
    TooManyPartitions,// more than MAX_PARTITIONS used entries (`entry`: the first one too many)
};

struct Result {
    Error error = Error::None;
    unsigned entry = 0;  // 1-based partition number for Entry* errors
    unsigned other = 0;  // the second partition of an overlap
    uint64_t value = 0;  // the offending number (a sector, a size, a count), where there is one
    [[nodiscard]] bool ok() const { return error == Error::None; }
};

// Reads one 512-byte sector; false on an I/O error.
using ReadSector = lib::FunctionRef<bool(uint64_t lba, uint8_t* buf)>;

// Parse the disk's primary GPT into `out`. `disk_sectors`: the disk's size.
Result parse(ReadSector read, uint64_t disk_sectors, Table& out);

// One line without a newline: "GPT header CRC mismatch",
// "partition 3 ends beyond the disk (last LBA 40000, disk 32768 sectors)", ...
// Returns buf.
const char* describe(const Result& r, char* buf, size_t size);

} // namespace dev::gpt
