"""The three machine instructions numba does not give: a prefetch of an array element's cache line, for reading or
for writing, and an atomic add that hands out block numbers. LLVM intrinsics, called from the numba kernels of the
trainers (``kernel_threads``) and of the ingest (``word_table``)."""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


def _prefetch_codegen(rw):
    """The code of llvm.prefetch of arr[index]'s cache line (index an integer, or a tuple of them), kept in all
    cache levels, for writing (rw=1) or reading (rw=0): a hint, never a fault."""

    def codegen(context, builder, sig, args):
        aryty, index_type = sig.args
        ary = context.make_array(aryty)(context, builder, args[0])
        if isinstance(index_type, types.BaseTuple):
            values, value_types = cgutils.unpack_tuple(builder, args[1]), index_type.types
        else:
            values, value_types = [args[1]], [index_type]
        idx = [context.cast(builder, v, t, types.intp) for v, t in zip(values, value_types)]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, rw), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return codegen


@intrinsic
def prefetch_write(typingctx, arr, index):
    """Prefetch arr[index]'s cache line for writing (PREFETCHW on x86). A row prefetched so is written soon after
    it is read; fetched for writing, its line arrives exclusive, so when another thread last wrote it the write
    needs no second trip between cores."""
    return types.void(arr, index), _prefetch_codegen(1)


@intrinsic
def prefetch_read(typingctx, arr, index):
    """Prefetch arr[index]'s cache line for reading: for tables that the threads share and do not write (a line
    prefetched for writing would travel between their cores), or that a loop reads further on."""
    return types.void(arr, index), _prefetch_codegen(0)


@intrinsic
def claim_block(typingctx, counter):
    """Atomically add 1 to counter[0] and return its value before: the index of the next unclaimed block
    (an LLVM ``atomicrmw add``, LOCK XADD on x86)."""

    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [zero], wraparound=False)
        return builder.atomic_rmw("add", ptr, ir.Constant(ir.IntType(64), 1), "monotonic")

    return types.int64(counter), codegen
