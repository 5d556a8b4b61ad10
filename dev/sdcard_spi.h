// SD cards in SPI mode behind a SiFive SPI controller (the HiFive boards' SD
// slot, QEMU sifive_u with -drive if=sd). Polled: submit() moves the data
// itself, one 512-byte block per command (CMD17 / CMD24; a scatter-gather
// request's buffers in turn), and calls done() before it returns; a mutex
// serialises requests, so submit() must be called from thread context. A
// malformed request is refused with Error::Invalid, one with an unmapped page
// with Error::Fault, before anything moves.
//
// Card bring-up: 80 clocks with CS high, CMD0 (idle), CMD8 (voltage check;
// cards that reject it are version 1), ACMD41 until the card leaves idle,
// CMD58 (OCR: CCS says block addressing, SDHC/SDXC), CMD16 512 for byte-
// addressed (SDSC) cards, CMD9 (CSD, versions 1 and 2) for the capacity,
// then a faster clock. A slot whose card does not answer CMD0 is reported as
// empty and nothing is registered.
#pragma once

#include "dev/block.h"
#include "dev/sifive_spi.h"
#include "kern/sync/wait.h"

#include <cstdint>

namespace dev {

struct SdCardStats {
    uint64_t requests;      // accepted by submit
    uint64_t errors;        // requests completed with an error
    uint64_t refused;       // submit errors (range, buffer, op)
    uint64_t sectors_read, sectors_written;
};

class SdCardSpi final : public BlockDevice {
public:
    [[nodiscard]] const char* name() const override { return name_; }
    [[nodiscard]] uint64_t sectors() const override { return sectors_; }
    [[nodiscard]] lib::Status submit(BlockRequest& req) override;
    [[nodiscard]] unsigned queue_depth() const override { return 1; }

    [[nodiscard]] bool high_capacity() const { return high_capacity_; }
    [[nodiscard]] SdCardStats stats();

    // Internal: bring the card in the slot of the controller at `base` up.
    // NotFound: no card answers; IO: a card that misbehaves (reported).
    [[nodiscard]] lib::Status init(uintptr_t base, unsigned irq, unsigned index);

private:
    uint8_t xfer(uint8_t out);
    [[nodiscard]] bool wait_ready(uint64_t timeout_us);
    uint8_t command(uint8_t cmd, uint32_t arg);
    void end();
    [[nodiscard]] bool read_data(uint8_t* buf, unsigned len, const char* what);
    [[nodiscard]] lib::Status read_block(uint64_t sector, uint8_t* buf);
    [[nodiscard]] lib::Status write_block(uint64_t sector, const uint8_t* buf);
    [[nodiscard]] lib::Status fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

    SifiveSpi spi_;
    ksync::Mutex lock_ {"sdcard"};
    char name_[12] = {};
    char where_[24] = {};      // "spi@10050000"
    uint64_t sectors_ = 0;
    bool high_capacity_ = false; // block addressing (SDHC/SDXC); else byte addressing
    bool spi_stuck_ = false;     // the controller stopped moving bytes
    SdCardStats st_ = {};
};

// Probe every SPI controller with an mmc-spi-slot; register the cards found
// as mmcblk0, mmcblk1, ...
void sdcard_spi_probe_all();

} // namespace dev
