/* random.c: randomness from the host: buffers differ between draws and look random. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned char a[256];
static unsigned char b[256];
static unsigned char big[1 << 20];

int main(void) {
    int ra = getentropy(a, sizeof a);
    int rb = getentropy(b, sizeof b);
    printf("getentropy          %s\n", ra == 0 && rb == 0 ? "ok" : "WRONG");
    printf("draws differ        %s\n", memcmp(a, b, sizeof a) != 0 ? "ok" : "WRONG");
    int ok = 1;
    for (size_t off = 0; off < sizeof big; off += 256)
        ok &= getentropy(big + off, 256) == 0;
    long ones = 0;
    for (size_t i = 0; i < sizeof big; i++)
        ones += __builtin_popcount(big[i]);
    long bits = (long)sizeof big * 8;
    /* A fair source lands within a few hundred bits of half of 8 Mbit; 0.5% is generous. */
    printf("bit balance         %s\n",
           ok && ones > bits / 2 - bits / 200 && ones < bits / 2 + bits / 200 ? "ok" : "WRONG");
    return 0;
}
