# Plex Warden — `make run` and `make test` are all a new machine needs.
# Both install the missing system packages first (Debian/Ubuntu, apt-get,
# with sudo when not root).

BINARY   := plexwarden
HEADLESS := $(BINARY)-headless
PREFIX   ?= /usr/local
DESTDIR  ?=
APP_ID   := io.github.plexwarden.plexwarden
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 30s
GO       ?= go

# Build: cgo toolchain and the GL/X11/Wayland headers Fyne 2.8 links against.
BUILD_PKGS := gcc libc6-dev pkg-config ca-certificates git libgl1-mesa-dev libx11-dev \
  libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev \
  libwayland-dev libxkbcommon-dev
# Run and test: a virtual display, a session bus, a real keyring, screenshot
# tools and ffmpeg for the local-transcoder tests. Not dbus-x11: it would
# autostart buses that outlive the tests.
TEST_PKGS := xvfb xauth dbus gnome-keyring imagemagick xdotool ffmpeg procps desktop-file-utils

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps deps-build build build-headless release run demo test test-go smoke lint bench fuzz soak measure package install install-files install-headless uninstall clean \
  deps-windows windows review-shots screenshots windows-installer wine-test deb deb-test darwin loadgrid

all: build

# deps-build / deps install only what is missing.
deps-build:
	@./.ci/ensure-packages $(BUILD_PKGS)

deps: deps-build
	@./.ci/ensure-packages $(TEST_PKGS)

build: deps-build
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BINARY) .

# The command line without the desktop app (main_headless.go), for servers
# with no desktop: no cgo, so no Fyne, GL or X11 libraries and no system
# packages to install; `watch` needs about half the memory of the full
# binary's (docs/BENCHMARKS.md).
build-headless:
	CGO_ENABLED=0 $(GO) build -tags headless -ldflags "$(LDFLAGS)" -o $(HEADLESS) .

release: deps-build
	$(GO) build -tags no_metadata,migrated_fynedo -trimpath -ldflags "-s -w $(LDFLAGS)" -o $(BINARY) .

# With no server configured the app starts on the built-in demo server.
# Without a display (DISPLAY and WAYLAND_DISPLAY unset) the binary says so
# and runs `plexwarden watch --demo` in the terminal instead.
run: build
	./$(BINARY)

demo: build
	./$(BINARY) demo

# Everything CI runs: formatting, vet, the race-enabled test suite under a
# private session bus with an unlocked gnome-keyring and a virtual display,
# then the real-window smoke test.
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	./.ci/with-session $(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) smoke
	$(MAKE) wine-test
	$(MAKE) deb-test
	$(MAKE) darwin

smoke: build build-headless
	PLEXWARDEN_SMOKE=$(CURDIR)/$(BINARY) PLEXWARDEN_HEADLESS=$(CURDIR)/$(HEADLESS) PLEXWARDEN_VERSION=$(VERSION) ./.ci/with-session $(GO) test -count=1 -run 'TestSmoke|TestHeadlessBuild' -v .

# The README's screenshots of the real app (Xvfb, xfce4-panel as tray host).
screenshots: build
	./.ci/screenshots ./$(BINARY) docs/screenshots

# Every tab at 800x600 and 1920x1080 in both themes, to look at before a
# change to the window is done (REVIEW_DIR, not committed).
REVIEW_DIR ?= /tmp/plexwarden-review
review-shots: build
	PLEXWARDEN_SHOTS_REVIEW=1 ./.ci/screenshots ./$(BINARY) $(REVIEW_DIR)

lint: deps-build
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

bench: deps
	./.ci/with-session $(GO) test -run '^$$' -bench . -benchmem -count=1 ./... | tee bench.out

# Lag, CPU and RSS of `watch --json` against a stand-in server for a grid
# of sessions × state changes per second, and reaction time beside the
# floor and the ported Plexopedia script, measured from outside the process
# (app/soak/loadgrid; about 15 minutes; docs/BENCHMARKS.md). Not part of
# `make test`. Narrow it with e.g. LOADGRID="-sessions 2000 -rates 500".
LOADGRID ?=
loadgrid: build-headless
	$(GO) run ./app/soak/loadgrid -bin ./$(HEADLESS) $(LOADGRID)

# The fault-injection soak (app/soak) for SOAK (5m): two thirds in-process
# faults against the real chain, one third SIGKILLs of the real binary's
# `watch`. `make test` runs the same tests for 30s.
SOAK ?= 5m
soak: build
	PLEXWARDEN_SOAK=$(SOAK) PLEXWARDEN_BIN=$(CURDIR)/$(BINARY) $(GO) test -race -count=1 -timeout 30m -run 'TestSoak' -v ./app/soak/

# Memory, CPU and start-up of the real binaries (the full one and the
# headless one), measured from outside the process (.ci/measure; about 6
# minutes); prints a table.
measure: deps build build-headless
	PLEXWARDEN_BIN=$(CURDIR)/$(BINARY) PLEXWARDEN_HEADLESS_BIN=$(CURDIR)/$(HEADLESS) ./.ci/measure

# Every fuzz target of every package, FUZZTIME each. Go 1.26's fuzzer can
# fail at the end of -fuzztime with a bare "context deadline exceeded" and
# no failing input (go.dev/issue/75804, fixed in Go 1.27): that alone is
# reported, not counted as a failure; a written failing input always is.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    corpus=$$($(GO) list -f '{{.Dir}}' $$pkg)/testdata/fuzz/$$f; \
	    before=$$(ls "$$corpus" 2>/dev/null | wc -l); \
	    if $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >.fuzz.out 2>&1; then \
	      tail -n 3 .fuzz.out; \
	    else \
	      cat .fuzz.out; \
	      if [ "$$(ls "$$corpus" 2>/dev/null | wc -l)" = "$$before" ] && grep -q '^    context deadline exceeded$$' .fuzz.out; then \
	        echo "(the fuzzer's own deadline race, go.dev/issue/75804: no failing input, not a failure)"; \
	      else rm -f .fuzz.out; exit 1; fi; \
	    fi; \
	    rm -f .fuzz.out; \
	  done; \
	done

# Where `make install` puts things: binaries in $(PREFIX)/bin, the
# application icon at 48x48 and scalable in the hicolor theme (plus the
# 512x512 PNG), the .desktop entry, the systemd unit for
# `plexwarden-headless watch` (see README, "Run on a server") and the
# licence. `make package` archives exactly the same tree.
UNITDIR  ?= $(PREFIX)/lib/systemd/system
ICONDIR   = $(DESTDIR)$(PREFIX)/share/icons/hicolor
UNIT     := plexwarden-watch.service
BINARY_SRC   ?= $(BINARY)
HEADLESS_SRC ?= $(HEADLESS)
# A Windows build of the desktop app must be linked as a GUI-subsystem
# program, or a console window opens beside the tray:
#   GOOS=windows go build -ldflags "-H windowsgui $(LDFLAGS)" .
# (fyne package --os windows adds -H windowsgui itself).
WINDOWS_GUI_LDFLAGS := -H windowsgui $(LDFLAGS)

# A Linux archive of the release build, laid out as `make install` lays it
# out under /usr/local (unpack with: sudo tar -xJf FILE -C /).
package: release build-headless
	rm -rf dist/stage
	mkdir -p dist
	$(MAKE) --no-print-directory install-files DESTDIR=$(CURDIR)/dist/stage PREFIX=/usr/local
	tar -C dist/stage -cJf dist/plexwarden-linux-amd64.tar.xz --owner=0 --group=0 usr
	rm -rf dist/stage
	@echo "dist/plexwarden-linux-amd64.tar.xz"

install: build build-headless
	$(MAKE) --no-print-directory install-files

# A server without a desktop: the headless binary, the unit and the
# licence only (no cgo, no GL/X11 packages needed).
install-headless: build-headless
	install -Dm755 $(HEADLESS_SRC) $(DESTDIR)$(PREFIX)/bin/$(HEADLESS)
	sed 's|@BINDIR@|$(PREFIX)/bin|' assets/$(UNIT).in > .unit.tmp
	install -Dm644 .unit.tmp $(DESTDIR)$(UNITDIR)/$(UNIT)
	rm -f .unit.tmp
	install -Dm644 LICENSE $(DESTDIR)$(PREFIX)/share/doc/$(BINARY)/LICENSE

# install-files copies the already built binaries (BINARY_SRC,
# HEADLESS_SRC: tests give stand-ins) and the other files.
install-files:
	install -Dm755 $(BINARY_SRC) $(DESTDIR)$(PREFIX)/bin/$(BINARY)
	install -Dm755 $(HEADLESS_SRC) $(DESTDIR)$(PREFIX)/bin/$(HEADLESS)
	install -Dm644 assets/icon-48.png $(ICONDIR)/48x48/apps/$(APP_ID).png
	install -Dm644 assets/icon.png $(ICONDIR)/512x512/apps/$(APP_ID).png
	install -Dm644 assets/icon.svg $(ICONDIR)/scalable/apps/$(APP_ID).svg
	sed 's|@BINDIR@|$(PREFIX)/bin|' assets/plexwarden.desktop.in > .desktop.tmp
	install -Dm644 .desktop.tmp $(DESTDIR)$(PREFIX)/share/applications/$(APP_ID).desktop
	rm -f .desktop.tmp
	sed 's|@BINDIR@|$(PREFIX)/bin|' assets/$(UNIT).in > .unit.tmp
	install -Dm644 .unit.tmp $(DESTDIR)$(UNITDIR)/$(UNIT)
	rm -f .unit.tmp
	install -Dm644 LICENSE $(DESTDIR)$(PREFIX)/share/doc/$(BINARY)/LICENSE

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/$(BINARY) $(DESTDIR)$(PREFIX)/bin/$(HEADLESS) \
	  $(ICONDIR)/48x48/apps/$(APP_ID).png \
	  $(ICONDIR)/512x512/apps/$(APP_ID).png \
	  $(ICONDIR)/scalable/apps/$(APP_ID).svg \
	  $(DESTDIR)$(PREFIX)/share/applications/$(APP_ID).desktop \
	  $(DESTDIR)$(UNITDIR)/$(UNIT) \
	  $(DESTDIR)$(PREFIX)/share/doc/$(BINARY)/LICENSE
	-rmdir $(DESTDIR)$(PREFIX)/share/doc/$(BINARY) 2>/dev/null

# Windows: the desktop app (cgo through Debian's mingw-w64 cross compiler,
# a GUI-subsystem executable: no console window) and the command line
# (the headless build, a console program), each with the app icon, a
# manifest and a version resource made by go-winres (a Go tool in go.mod).
# The resource's numeric version is FyneApp.toml's; the text version is
# VERSION. Output: dist/windows/.
WIN_PKGS    := gcc-mingw-w64-x86-64
WIN_DIR     := dist/windows
WIN_VERSION := $(shell sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
WINRES       = $(GO) tool go-winres simply --arch amd64 --product-name "Plex Warden" \
  --product-version $(WIN_VERSION).0 --file-version $(WIN_VERSION).0 --copyright "Plex Warden authors" \
  --icon assets/icon.png

deps-windows:
	@./.ci/ensure-packages $(WIN_PKGS)

windows: deps-windows
	mkdir -p $(WIN_DIR)
	rm -f rsrc_windows_amd64.syso
	$(WINRES) --manifest gui --file-description "Plex Warden" --original-filename $(BINARY).exe
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc $(GO) build -tags no_metadata,migrated_fynedo \
	  -trimpath -ldflags "-s -w -H windowsgui $(LDFLAGS)" -o $(WIN_DIR)/$(BINARY).exe . || { rm -f rsrc_windows_amd64.syso; exit 1; }
	$(WINRES) --manifest cli --file-description "Plex Warden command line" --original-filename $(HEADLESS).exe
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -tags headless -trimpath \
	  -ldflags "-s -w $(LDFLAGS)" -o $(WIN_DIR)/$(HEADLESS).exe . || { rm -f rsrc_windows_amd64.syso; exit 1; }
	rm -f rsrc_windows_amd64.syso
	@ls -l $(WIN_DIR)/*.exe

# The Windows installer (NSIS, Debian's makensis): Start-menu shortcut,
# optional start at login, an uninstaller that keeps settings, history and
# saved tokens unless asked (installer/plexwarden.nsi).
windows-installer: windows
	@./.ci/ensure-packages nsis imagemagick
	convert assets/icon.png -define icon:auto-resize=256,64,48,32,16 dist/plexwarden.ico
	makensis -V2 -DVERSION=$(WIN_VERSION) -DTEXTVERSION=$(VERSION) -DSRCDIR=$(CURDIR)/$(WIN_DIR) \
	  -DICON=$(CURDIR)/dist/plexwarden.ico -DOUTFILE=$(CURDIR)/dist/plexwarden-setup.exe installer/plexwarden.nsi
	@ls -l dist/plexwarden-setup.exe

# The Windows builds and the installer under Wine (Debian's wine64 and
# Xvfb): see wine_test.go. Skipped, saying so, where Wine cannot be
# installed (not Debian/Ubuntu amd64 with apt-get). wine64 alone: no i386
# architecture is added.
wine-test: deps build
	@if [ "$$(dpkg --print-architecture 2>/dev/null)" = amd64 ] && ./.ci/ensure-packages wine wine64 $(WIN_PKGS) nsis; then \
	  $(MAKE) windows-installer VERSION=$(VERSION) && \
	  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) test -c -o $(WIN_DIR)/app.test.exe ./app/ && \
	  x86_64-w64-mingw32-gcc -O2 -shared -o $(WIN_DIR)/bcryptprimitives.dll .ci/wine/bcryptprimitives.c .ci/wine/bcryptprimitives.def -ladvapi32 && \
	  PLEXWARDEN_WINE_DIR=$(CURDIR)/$(WIN_DIR) PLEXWARDEN_SMOKE=$(CURDIR)/$(BINARY) PLEXWARDEN_VERSION=$(VERSION) \
	    PLEXWARDEN_INSTALLER=$(CURDIR)/dist/plexwarden-setup.exe \
	    ./.ci/with-session $(GO) test -count=1 -timeout 10m -run 'TestWine' -v .; \
	else echo "SKIP wine-test: Wine could not be installed here (it needs Debian/Ubuntu amd64 with apt-get); the Windows builds were not run"; fi

# The Debian package: dist/plexwarden_<version>_<arch>.deb (.ci/deb), with
# the desktop entry, hicolor icons and AppStream metainfo. Its version is
# FyneApp.toml's. The program is `make build`'s, stripped (no second build).
DEB_PKGS := dpkg-dev imagemagick binutils
deb: build build-headless
	@./.ci/ensure-packages $(DEB_PKGS)
	mkdir -p dist
	cp $(BINARY) dist/$(BINARY)-linux
	cp $(HEADLESS) dist/$(HEADLESS)-linux
	strip dist/$(BINARY)-linux dist/$(HEADLESS)-linux
	./.ci/deb dist/$(BINARY)-linux $(WIN_VERSION) dist/$(BINARY)_$(WIN_VERSION)_$$(dpkg --print-architecture).deb dist/$(HEADLESS)-linux

# The package checked as a distribution would: desktop-file-validate and
# appstreamcli on its entries (and on the XDG autostart entry the app
# writes), then unpacked into a scratch root and run.
deb-test: deb
	@./.ci/ensure-packages desktop-file-utils appstream
	./.ci/deb-test dist/$(BINARY)_$(WIN_VERSION)_$$(dpkg --print-architecture).deb "$(VERSION)"
	PLEXWARDEN_VALIDATE_AUTOSTART=1 $(GO) test -count=1 -run 'TestAutostartEntryValidates' ./app/

# macOS: the command line cross-compiles for both architectures (no cgo).
# The desktop app needs a Mac (see the README).
darwin:
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build -tags headless -trimpath -ldflags "$(LDFLAGS)" -o dist/darwin/$(HEADLESS)-arm64 .
	CGO_ENABLED=0 GOOS=darwin GOARCH=amd64 $(GO) build -tags headless -trimpath -ldflags "$(LDFLAGS)" -o dist/darwin/$(HEADLESS)-amd64 .
	@ls -l dist/darwin/

clean:
	rm -rf $(BINARY) $(HEADLESS) dist bench.out rsrc_windows_amd64.syso
