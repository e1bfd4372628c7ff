/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test rig's VMClock device: an SSDT passed to QEMU with -acpitable.
 * The page lives in ordinary guest RAM that the guest kernel reserves with
 * memmap=, and that the host writes through QEMU's shared RAM backing file.
 *
 * Variants, selected with iasl -D (see tests/vm/acpi/Makefile):
 *   (default)  _HID AMZNC10C, _CID VMCLOCK, _STA a constant, QWordMemory
 *   FC_SHAPE   like Firecracker: _STA a Method, page below 1 MiB
 *   CID_ONLY   a _HID of no driver's, matched through _CID VMCLOCK only
 *   CRS_DWORD / CRS_FIXED32: the other memory descriptor kinds
 *   CRS_MEM24  Memory24 (24-bit addresses only: use with FC_SHAPE)
 *   CRS_TWO    two memory descriptors (a driver must refuse it)
 *   CRS_IO     an I/O port descriptor only (a driver must refuse it)
 *   ARM64_NVDIMM  the page at 2 GiB, where an arm64 guest's page lives
 *              (a cold-plugged NVDIMM outside its RAM, tests/vm/arm64.py);
 *              there the table comes from the initrd, not -acpitable
 *
 * NTFY is not part of any hypervisor's table: the rig's guest module
 * evaluates it on the host's request, because QEMU has no host-triggered
 * path to a Notify on x86.
 */
#ifdef FC_SHAPE
#define PAGE_LO		0x0009d000
#define PAGE_HI		0x0009dfff
#else
#ifdef ARM64_NVDIMM
#define PAGE_LO		0x80000000
#define PAGE_HI		0x80000fff
#else
#define PAGE_LO		0x1f000000
#define PAGE_HI		0x1f000fff
#endif
#endif

DefinitionBlock ("", "SSDT", 2, "VMCLKT", "VMCLOCK", 1)
{
	Scope (\_SB)
	{
		Device (VCLK)
		{
#ifdef CID_ONLY
			Name (_HID, "VMCK0001")
#else
			Name (_HID, "AMZNC10C")
#endif
			Name (_CID, "VMCLOCK")
			Name (_DDN, "VMCLOCK")
			Name (_UID, Zero)
#ifdef FC_SHAPE
			Method (_STA, 0, NotSerialized)
			{
				Return (0x0F)
			}
#else
			Name (_STA, 0x0F)
#endif
			Name (_CRS, ResourceTemplate ()
			{
#ifdef CRS_DWORD
				DWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
					Cacheable, ReadOnly, 0, PAGE_LO, PAGE_HI, 0, 0x1000)
#else
#ifdef CRS_FIXED32
				Memory32Fixed (ReadOnly, PAGE_LO, 0x1000)
#else
#ifdef CRS_MEM24
				/* bits 23:8 of the address: base 0x9d000, 0x1000 long */
				Memory24 (ReadOnly, 0x09d0, 0x09df, 0x0010, 0x0010)
#else
#ifdef CRS_IO
				IO (Decode16, 0x0510, 0x0510, 1, 8)
#else
				QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
					Cacheable, ReadOnly, 0, PAGE_LO, PAGE_HI, 0, 0x1000)
#endif
#endif
#endif
#endif
#ifdef CRS_TWO
				QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
					Cacheable, ReadOnly, 0, 0x1f002000, 0x1f002fff, 0, 0x1000)
#endif
			})

			Method (NTFY, 0, Serialized)
			{
				Notify (\_SB.VCLK, 0x80)
			}
		}
	}
}
