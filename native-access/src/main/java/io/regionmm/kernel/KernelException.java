package io.regionmm.kernel;

/**
 * A system call failed. Carries the call, its arguments, the errno (number and symbolic name) and, where one
 * helps, what to do about it. Real failures and injected ones ({@code io.regionmm.kernel.fault}) are built by the
 * same factory, so callers cannot tell them apart.
 */
public final class KernelException extends Exception
{
    private static final long serialVersionUID = 1L;

    private final Syscall call;
    private final int errno;
    private final String invocation;
    private final String hint;

    private KernelException(final Syscall call, final int errno, final String invocation, final String hint)
    {
        super(invocation + " failed: " + Errno.nameOf(errno) + " (" + text(errno) + ", errno " + errno + ")" +
            (hint.isEmpty() ? "" : "; " + hint));
        this.call = call;
        this.errno = errno;
        this.invocation = invocation;
        this.hint = hint;
    }

    /**
     * Builds the exception for a failed call.
     *
     * @param call       which system call failed.
     * @param errno      the errno it set.
     * @param invocation the call with its arguments, from {@link Syscall#describe(String, long...)}.
     * @return the exception, message included.
     */
    public static KernelException of(final Syscall call, final int errno, final String invocation)
    {
        return new KernelException(call, errno, invocation, Hints.hintFor(call, errno));
    }

    /**
     * @return the call that failed.
     */
    public Syscall call()
    {
        return call;
    }

    /**
     * @return the errno number.
     */
    public int errno()
    {
        return errno;
    }

    /**
     * @return the symbolic errno name, e.g. {@code ENOMEM}.
     */
    public String errnoName()
    {
        return Errno.nameOf(errno);
    }

    /**
     * @return the errno as a constant, or {@code null} for one {@link Errno} does not name.
     */
    public Errno errnoConstant()
    {
        return Errno.ofNumber(errno);
    }

    /**
     * @return the failed call with its arguments.
     */
    public String invocation()
    {
        return invocation;
    }

    /**
     * @return what to do about it, or an empty string.
     */
    public String hint()
    {
        return hint;
    }

    private static String text(final int errno)
    {
        final Errno e = Errno.ofNumber(errno);
        return e != null ? e.description() : "unknown error";
    }
}
