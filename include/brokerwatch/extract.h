/*
 * extract.h - read wire fields from packet bytes.
 *
 * The decoders never cast packet bytes to header structs: they check once that
 * a fixed header fits, then read its fields through these getters, which make
 * no alignment assumption. The length check is the caller's (see STYLE.md 7).
 */
#ifndef BW_EXTRACT_H
#define BW_EXTRACT_H

#include <stdint.h>

/* Big-endian (network order) 16-bit field at p. */
static inline uint16_t
bw_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* Big-endian 32-bit field at p. */
static inline uint32_t
bw_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Little-endian 16-bit field at p. */
static inline uint16_t
bw_le16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[1] << 8 | p[0]);
}

/* Little-endian 32-bit field at p. */
static inline uint32_t
bw_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

#endif
