# SPDX-License-Identifier: GPL-2.0
#
# ptp_vmclock: out-of-tree VMClock guest driver.
#
#   make                  build ptp_vmclock.ko for the running kernel (or KDIR=...)
#   make install          install it under updates/, the udev rule, the opt-in
#                         chrony files, and run depmod (DESTDIR=, PREFIX=)
#   make uninstall        undo make install
#   make dkms             dkms add, build and install, and the same udev and
#                         chrony files; make dkms-remove undoes it
#   make deb              Debian packages (vmclock-dkms) into build/deb/
#   make setup            install the test rig's packages, fetch guest kernels
#   make demo             set up, build, boot a demo guest and show the driver working
#   make check            set up and run the whole test suite
#   make unit             host unit tests of the core only
#   make bench            boot guests and print the performance table, then
#                         instructions per call under QEMU -icount (bench-icount)
#   make bench-icount     that last part alone: ours against in-tree on 7.x
#   make bench-lib        libvmclock now() vs clock_gettime, natively
#   make userspace        libvmclock (shared, static) and the vmclock command
#   make install-userspace   install them, <vmclock.h>, vmclock.pc, man pages
#                         (DESTDIR, PREFIX=/usr/local, LIBDIR=PREFIX/lib/<multiarch>)
KVER	?= $(shell uname -r)
KDIR	?= /lib/modules/$(KVER)/build
VERSION	:= $(shell sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}/\1/p' dkms.conf 2>/dev/null)
PREFIX	?= /usr/local
# What DKMS and the package need of this tree to build the module.
MODULE_SRC := Kbuild dkms.conf drivers include

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# updates/ comes before the kernel's own directories in depmod's default
# search order, so this module wins over a kernel's own ptp_vmclock (7.x).
install: modules install-data
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates modules_install
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER)

uninstall: uninstall-data
	rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/ptp_vmclock.ko*
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER)

# The udev rule (active), the chrony integration (opt-in: see
# Documentation/install.md), then udev reloads its rules.
install-data:
	install -D -m 0644 udev/60-vmclock.rules $(DESTDIR)/etc/udev/rules.d/60-vmclock.rules
	install -d $(DESTDIR)$(PREFIX)/share/vmclock/chrony
	install -m 0644 udev/61-vmclock-chrony.rules chrony/vmclock.conf \
		chrony/chrony-wait-vmclock.conf $(DESTDIR)$(PREFIX)/share/vmclock/chrony/
	$(if $(DESTDIR),,-udevadm control --reload 2>/dev/null)

uninstall-data:
	rm -f $(DESTDIR)/etc/udev/rules.d/60-vmclock.rules
	rm -rf $(DESTDIR)$(PREFIX)/share/vmclock/chrony
	-rmdir $(DESTDIR)$(PREFIX)/share/vmclock 2>/dev/null

dkms: install-data
	-dkms remove -m vmclock -v $(VERSION) --all 2>/dev/null
	rm -rf /usr/src/vmclock-$(VERSION)
	mkdir -p /usr/src/vmclock-$(VERSION)
	cp -r $(MODULE_SRC) /usr/src/vmclock-$(VERSION)/
	dkms add -m vmclock -v $(VERSION)
	dkms build -m vmclock -v $(VERSION) -k $(KVER)
	dkms install -m vmclock -v $(VERSION) -k $(KVER)

dkms-remove: uninstall-data
	-dkms remove -m vmclock -v $(VERSION) --all
	rm -rf /usr/src/vmclock-$(VERSION)

# Packages: built by dpkg-buildpackage (debhelper, dh-dkms) from a copy of
# the tree's files that the packages need, then checked by lintian.
DEB_DIR	:= build/deb
DEB_SRC	:= $(MODULE_SRC) udev chrony debian Makefile tools/lib tools/vmclock LICENSES
DEB_TOOLS := dpkg-dev debhelper dh-dkms lintian

deb-prereq:
	@missing=$$(for p in $(DEB_TOOLS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		apt-get -q install -y --no-install-recommends $$missing >/dev/null; \
	fi

deb: deb-prereq
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/vmclock-$(VERSION)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -co --exclude-standard -- $(DEB_SRC) | \
			tar -cf - --ignore-failed-read -T - | tar -xf - -C $(DEB_DIR)/vmclock-$(VERSION); \
	else \
		cp -r $(DEB_SRC) $(DEB_DIR)/vmclock-$(VERSION)/; \
	fi
	cd $(DEB_DIR)/vmclock-$(VERSION) && dpkg-buildpackage -us -uc
	lintian --fail-on error,warning --info $(DEB_DIR)/*.changes

setup:
	bash tests/vm/setup.sh

demo: setup
	python3 tests/vm/rig.py --show --kernels 6.1 demo

check: setup
	bash tests/run-all.sh

unit:
	$(MAKE) -C tests/unit check

bench: setup
	bench/run.sh
	bench/icount.sh

bench-icount: setup
	bench/icount.sh

bench-lib:
	bench/lib-bench.sh

PREFIX	?= /usr/local
USERSPACE_VARS = PREFIX=$(PREFIX) $(if $(LIBDIR),LIBDIR=$(LIBDIR)) $(if $(DESTDIR),DESTDIR=$(DESTDIR))

userspace:
	$(MAKE) -C tools/lib/vmclock
	$(MAKE) -C tools/vmclock

install-userspace: userspace
	$(MAKE) -C tools/lib/vmclock install $(USERSPACE_VARS)
	$(MAKE) -C tools/vmclock install $(USERSPACE_VARS)

# Not kbuild's "clean": with M= at the top it deletes every *.ko below,
# any kernel modules below the checkout included.
clean:
	rm -rf build
	find drivers -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' | xargs rm -f
	rm -f Module.symvers modules.order .*.cmd
	$(MAKE) -C tests/unit clean
	$(MAKE) -C tools/vmclock-host clean
	$(MAKE) -C tools/lib/vmclock clean
	$(MAKE) -C tools/vmclock clean
	$(MAKE) -C tests/vm/guest clean

.PHONY: all modules install uninstall install-data uninstall-data dkms dkms-remove \
	deb-prereq deb setup demo check unit bench bench-icount clean userspace install-userspace bench-lib
