package io.regionmm.space;

/**
 * The address space was closed; nothing can be mapped, read or changed through it any more.
 */
public final class SpaceClosedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param operation what was attempted.
     */
    public SpaceClosedException(final String operation)
    {
        super(operation + ": the address space is closed");
    }
}
