package io.regionmm.space;

import io.regionmm.kernel.KernelException;

import java.io.IOException;

/**
 * A write operation failed in the kernel (or found no room) and was undone: the region map, the kernel's mappings
 * and the files are as they were before the call. Names the operation; the kernel's errno, call and hint are in
 * the message and in {@link #kernelCause()}. The one exception: when an undo failed as well, a
 * {@link SpacePoisonedException} is attached as a suppressed exception, and the space refuses further writes.
 */
public class MappingException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final String operation;

    /**
     * @param operation the failed operation.
     * @param cause     the system call that failed.
     */
    public MappingException(final String operation, final KernelException cause)
    {
        super(operation + ": " + cause.getMessage(), cause);
        this.operation = operation;
    }

    /**
     * @param operation the failed operation.
     * @param message   why (no system call involved, e.g. no free range large enough).
     */
    public MappingException(final String operation, final String message)
    {
        super(operation + ": " + message);
        this.operation = operation;
    }

    /** @return the failed operation. */
    public String operation()
    {
        return operation;
    }

    /** @return the failed system call, or null when none was involved. */
    public KernelException kernelCause()
    {
        return getCause() instanceof KernelException k ? k : null;
    }

    /** @return the errno name of the failed call (e.g. ENOMEM), or null. */
    public String errnoName()
    {
        final KernelException k = kernelCause();
        return k != null ? k.errnoName() : null;
    }
}
