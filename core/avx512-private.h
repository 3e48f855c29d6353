/* avx512-private.h — what gemm-avx512.c and cpu-avx512.c share
 *
 * Included where the AVX-512 kernels are compiled (x86-64 with GCC or
 * Clang): CS_AVX512, the target attribute of every function that runs
 * AVX-512 instructions, and register-level helpers.
 */
#pragma once

#include <immintrin.h>

#define CS_AVX512 __attribute__ ((target ("avx512f")))

/* rows r (16 × 16, one per zmm) become columns, in place. */
static inline __attribute__ ((always_inline)) CS_AVX512 void
cs_avx512_transpose_16x16 (__m512 r[16])
{
  __m512 t[16], u[16];
#pragma GCC unroll 16
  for (int i = 0; i < 8; i++)
    {
      t[2 * i] = _mm512_unpacklo_ps (r[2 * i], r[2 * i + 1]);      /* a0 b0 a1 b1 per lane */
      t[2 * i + 1] = _mm512_unpackhi_ps (r[2 * i], r[2 * i + 1]);  /* a2 b2 a3 b3 */
    }
#define PD(x) _mm512_castps_pd (x)
#define PS(x) _mm512_castpd_ps (x)
#pragma GCC unroll 16
  for (int i = 0; i < 4; i++)
    {
      /* u[4i + q], lane L: element 4L + q of rows 4i … 4i + 3 */
      u[4 * i + 0] = PS (_mm512_unpacklo_pd (PD (t[4 * i]), PD (t[4 * i + 2])));
      u[4 * i + 1] = PS (_mm512_unpackhi_pd (PD (t[4 * i]), PD (t[4 * i + 2])));
      u[4 * i + 2] = PS (_mm512_unpacklo_pd (PD (t[4 * i + 1]), PD (t[4 * i + 3])));
      u[4 * i + 3] = PS (_mm512_unpackhi_pd (PD (t[4 * i + 1]), PD (t[4 * i + 3])));
    }
#undef PD
#undef PS
#pragma GCC unroll 16
  for (int q = 0; q < 4; q++)
    {
      /* lanes (0, 2) and (1, 3) of rows 0–7, then of rows 8–15 */
      __m512 v0 = _mm512_shuffle_f32x4 (u[q], u[4 + q], 0x88);
      __m512 v1 = _mm512_shuffle_f32x4 (u[q], u[4 + q], 0xdd);
      __m512 v2 = _mm512_shuffle_f32x4 (u[8 + q], u[12 + q], 0x88);
      __m512 v3 = _mm512_shuffle_f32x4 (u[8 + q], u[12 + q], 0xdd);
      r[q] = _mm512_shuffle_f32x4 (v0, v2, 0x88);
      r[4 + q] = _mm512_shuffle_f32x4 (v1, v3, 0x88);
      r[8 + q] = _mm512_shuffle_f32x4 (v0, v2, 0xdd);
      r[12 + q] = _mm512_shuffle_f32x4 (v1, v3, 0xdd);
    }
}

