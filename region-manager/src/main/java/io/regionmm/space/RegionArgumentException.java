package io.regionmm.space;

/**
 * A call was refused before anything changed: the message names the operation and the argument at fault.
 */
public class RegionArgumentException extends IllegalArgumentException
{
    private static final long serialVersionUID = 1L;

    private final String operation;

    /**
     * @param operation the refused operation, e.g. {@code unmap}.
     * @param message   what is wrong, with the values.
     */
    public RegionArgumentException(final String operation, final String message)
    {
        super(operation + ": " + message);
        this.operation = operation;
    }

    /** @return the refused operation. */
    public String operation()
    {
        return operation;
    }
}
