package io.regionmm.space;

import io.regionmm.kernel.KernelException;

/**
 * A write was refused because an earlier failed operation could not be undone: one of the system calls that undo
 * a failed write (putting a tombstone back, moving a region back, truncating a grown file back, reverting an
 * attribute) failed itself, so the region map may no longer match the kernel's mappings or the files. From then on
 * every write to the space (each {@link WriteSection} operation, the one-shot writes, {@code releaseFile},
 * {@code beginWrite}) is refused with this exception; reads keep working ({@link AddressSpace#sync} too: it
 * changes no mapping, so dirty data can still be written back before closing), and {@link AddressSpace#close()} still
 * releases the window and every descriptor. Close the space and create a new one.
 *
 * <p>Also attached, as a suppressed exception, to the {@link MappingException} of the operation whose undo
 * failed. {@link #getCause()} is the undo's failed system call.
 */
public final class SpacePoisonedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String failedOperation;

    SpacePoisonedException(final String operation, final String failedOperation, final String undo,
        final KernelException cause)
    {
        super(operation + ": the address space is poisoned: undoing a failed " + failedOperation + " failed (" +
            undo + ": " + cause.getMessage() + "); the region map may no longer match the kernel's mappings or " +
            "the files, so writes are refused. Reads still work; close the space (that releases the window and " +
            "every file descriptor) and create a new one", cause);
        this.operation = operation;
        this.failedOperation = failedOperation;
    }

    /** @return the operation refused (or, attached to a MappingException, the one whose undo failed). */
    public String operation()
    {
        return operation;
    }

    /** @return the write operation whose undo failed. */
    public String failedOperation()
    {
        return failedOperation;
    }

    /** @return the errno name of the undo's failed system call (e.g. ENOMEM). */
    public String errnoName()
    {
        return ((KernelException)getCause()).errnoName();
    }
}
