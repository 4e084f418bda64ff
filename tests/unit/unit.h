/*
 * unit.h - what every check program in tests/unit (and tests/config) shares:
 * running a suite, a seeded random generator (failures reproduce), the
 * temporary directory, and small byte helpers.
 */
#ifndef BW_UNIT_H
#define BW_UNIT_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Runs s with CK_VERBOSITY (default normal); exit status for meson. */
static inline int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Where temporary files go: TMPDIR (the build directory under meson), else /tmp. */
static inline const char *
unit_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t != NULL && *t != '\0' ? t : "/tmp";
}

/* xorshift64*: the same seed gives the same sequence everywhere. */
struct unit_rng {
	uint64_t s;
};

static inline uint64_t
unit_rand(struct unit_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/* Uniform enough in [0, n) for tests; n > 0. */
static inline uint32_t
unit_below(struct unit_rng *r, uint32_t n)
{
	return (uint32_t)((unit_rand(r) >> 11) % n);
}

/* A copy of p[0..n) in a heap block of exactly n bytes: ASan sees overreads. */
static inline uint8_t *
unit_exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n);

	ck_assert(n == 0 || c != NULL);
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

#endif
