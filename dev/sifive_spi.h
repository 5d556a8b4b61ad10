// SiFive SPI controller (FU540/FU740 "sifive,spi0"), programmed I/O only:
// one byte out through txdata, one byte in through rxdata, polled, no
// interrupts. Chip select is driven by the controller's csmode: HOLD keeps
// the selected device's CS asserted between frames (a whole command and its
// data), AUTO leaves it deasserted while no frame runs.
//
// Register map (FU540-C000 manual, chapter "SPI"):
//   0x00 sckdiv  f_sck = f_in / (2 * (div + 1)), 12 bits
//   0x04 sckmode phase/polarity
//   0x10 csid    0x14 csdef (idle level per CS)  0x18 csmode (0 AUTO, 2 HOLD, 3 OFF)
//   0x40 fmt     proto [1:0], endian [2], dir [3], len [19:16]
//   0x48 txdata  bit 31: FIFO full (write ignored)
//   0x4c rxdata  bit 31: FIFO empty (no data)
//   0x60 fctrl   flash controllers only: bit 0 enables the memory-mapped mode
//   0x70 ie      0x74 ip
#pragma once

#include <cstdint>

namespace dev {

class SifiveSpi {
public:
    // Put the controller in PIO mode, 8-bit MSB-first frames, mode 0, CS 0
    // deasserted, interrupts off, a slow clock. `flash_controller`: it has
    // the memory-mapped flash interface (QSPI0/1), which is switched off;
    // plain controllers (the SD slot's) have no fctrl and it is not touched.
    void init(uintptr_t base, bool flash_controller);
    [[nodiscard]] uintptr_t base() const { return base_; }

    // Clock divider (sckdiv); clamped to the 12-bit field.
    void set_divider(uint32_t div);
    // HOLD: CS stays asserted from the next frame on until deselect().
    void select();
    // AUTO: CS deasserted while the controller is idle.
    void deselect();
    // OFF: the controller stops driving CS, which stays at its csdef idle
    // (deasserted) level even while frames run: for clocks with CS high.
    void cs_released();

    // Send one byte and return the byte clocked in at the same time. False
    // if the controller did not take or deliver a byte within its timeout.
    [[nodiscard]] bool transfer(uint8_t out, uint8_t& in);

private:
    uintptr_t base_ = 0;
};

} // namespace dev
