//go:build amd64 && !purego

package distance

import (
	"reflect"
	"testing"

	"golang.org/x/sys/cpu"
)

func init() {
	// The "avx512" set uses the VNNI int8 kernel where the core has VNNI;
	// keep testing the AVX-512BW one there too.
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
		int8Variants = append(int8Variants, int8Kernel{"avx512bw", dotInt8AVX512})
	}
}

func TestSelectKernels(t *testing.T) {
	ptr := func(f any) uintptr { return reflect.ValueOf(f).Pointer() }
	names := func(sets []*kernelSet) (ns []string) {
		for _, k := range sets {
			ns = append(ns, k.name)
		}
		return ns
	}
	for _, tc := range []struct {
		avx2, avx512, vnni bool
		want               []string
		int8               any
	}{
		{want: nil},
		{avx512: true, vnni: true, want: nil}, // AVX-512 without AVX2+FMA: nothing
		{avx2: true, want: []string{"avx2"}},
		{avx2: true, avx512: true, want: []string{"avx512", "avx2"}, int8: dotInt8AVX512},
		{avx2: true, avx512: true, vnni: true, want: []string{"avx512", "avx2"}, int8: dotInt8VNNI},
	} {
		sets := selectKernels(tc.avx2, tc.avx512, tc.vnni)
		if got := names(sets); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("selectKernels(%v, %v, %v) = %v, want %v", tc.avx2, tc.avx512, tc.vnni, got, tc.want)
			continue
		}
		if tc.int8 != nil && ptr(sets[0].dotI8) != ptr(tc.int8) {
			t.Errorf("selectKernels(%v, %v, %v): wrong int8 kernel", tc.avx2, tc.avx512, tc.vnni)
		}
	}
}
