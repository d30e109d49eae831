/* bcryptprimitives.dll for Wine 8 (Debian bookworm), for the tests only.
 *
 * Go's Windows runtime (1.22 and later) reads its random numbers through
 * ProcessPrng in bcryptprimitives.dll, which every Windows since 8 has but
 * Wine only gained in 9.x: without it a Go program dies at start with
 * "bcryptprimitives.dll not found". .ci/wine-test builds this stand-in
 * with mingw and puts it in the test prefix's system32; it answers from
 * RtlGenRandom (advapi32's SystemFunction036), Wine's own CSPRNG. It is
 * never shipped: the installer and make windows do not include it.
 */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
