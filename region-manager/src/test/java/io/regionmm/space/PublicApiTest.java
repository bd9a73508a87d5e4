package io.regionmm.space;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The front door: only the packages the README lists are exported, and no type of an internal package (the
 * protocol, the map's structures) is reachable from a public or protected signature of an exported type; so no
 * caller can reach a lock word, a count or a map version.
 */
class PublicApiTest
{
    private static final Set<String> EXPORTED = Set.of("io.regionmm.space", "io.regionmm.region", "io.regionmm.view",
        "io.regionmm.view.chronicle");
    /**
     * Internal supertypes an exported type may have, and why that is safe. Region extends RegionLock so the lock
     * words sit in the region object itself (no extra load on the read path); RegionLock is not exported, so no
     * code outside the module can name it, subclass it or reach its fields, and the only members it passes on are
     * read-only diagnostics with primitive types (readers(), isDetached()).
     */
    private static final Map<String, String> ALLOWED_SUPERTYPES = Map.of(
        "io.regionmm.region.Region", "io.regionmm.lock.RegionLock");

    @Test
    void theModuleExportsExactlyTheFrontDoor() throws Exception
    {
        // Read from the compiled module-info: the test may run on the class path, where the module is unnamed.
        final java.lang.module.ModuleDescriptor d;
        try (var in = Files.newInputStream(classes().resolve("module-info.class")))
        {
            d = java.lang.module.ModuleDescriptor.read(in);
        }
        final Set<String> exported = d.exports().stream().filter(e -> !e.isQualified()).map(e -> e.source())
            .collect(Collectors.toSet());
        assertEquals(EXPORTED, exported, "exported packages (README, 'The public API')");
    }

    @Test
    void noInternalTypeIsReachableFromAnExportedSignature() throws Exception
    {
        final List<String> leaks = new ArrayList<>();
        for (final Class<?> c : exportedTypes())
        {
            if (!Modifier.isPublic(c.getModifiers()))
            {
                continue;
            }
            final Class<?> sup = c.getSuperclass();
            if (sup != null && isInternal(sup) && !sup.getName().equals(ALLOWED_SUPERTYPES.get(c.getName())))
            {
                leaks.add(c.getName() + " extends " + sup.getName());
            }
            for (final Type t : c.getGenericInterfaces())
            {
                check(c.getName() + " implements", t, leaks);
            }
            for (final Method m : c.getMethods())
            {
                checkExecutable(c, m, m.getGenericReturnType(), leaks);
            }
            for (final Method m : c.getDeclaredMethods())
            {
                if (Modifier.isProtected(m.getModifiers()))
                {
                    checkExecutable(c, m, m.getGenericReturnType(), leaks);
                }
            }
            for (final Constructor<?> k : c.getDeclaredConstructors())
            {
                if (Modifier.isPublic(k.getModifiers()) || Modifier.isProtected(k.getModifiers()))
                {
                    checkExecutable(c, k, void.class, leaks);
                }
            }
            for (final Field f : c.getDeclaredFields())
            {
                if (Modifier.isPublic(f.getModifiers()) || Modifier.isProtected(f.getModifiers()))
                {
                    check(c.getName() + "." + f.getName(), f.getGenericType(), leaks);
                }
            }
        }
        assertTrue(leaks.isEmpty(), "internal types reachable from the public API:\n" + String.join("\n", leaks));
    }

    private static void checkExecutable(final Class<?> c, final Executable e, final Type result, final List<String> out)
    {
        final String where = c.getName() + "." + e.getName();
        check(where + " returns", result, out);
        for (final Type p : e.getGenericParameterTypes())
        {
            check(where + " takes", p, out);
        }
        for (final Type x : e.getGenericExceptionTypes())
        {
            check(where + " throws", x, out);
        }
    }

    private static void check(final String where, final Type t, final List<String> out)
    {
        if (t instanceof Class<?> k)
        {
            final Class<?> base = k.isArray() ? k.componentType() : k;
            if (isInternal(base))
            {
                out.add(where + " " + base.getName());
            }
        }
        else if (t instanceof ParameterizedType p)
        {
            check(where, p.getRawType(), out);
            for (final Type a : p.getActualTypeArguments())
            {
                check(where, a, out);
            }
        }
        else if (t instanceof GenericArrayType g)
        {
            check(where, g.getGenericComponentType(), out);
        }
        else if (t instanceof WildcardType w)
        {
            Stream.concat(Stream.of(w.getUpperBounds()), Stream.of(w.getLowerBounds()))
                .forEach(b -> check(where, b, out));
        }
        else if (t instanceof TypeVariable<?> v)
        {
            for (final Type b : v.getBounds())
            {
                // the raw bound is enough: a bound's arguments may name the variable itself (E extends Enum<E>)
                check(where, b instanceof ParameterizedType p ? p.getRawType() : b, out);
            }
        }
    }

    /** Our own types outside the exported packages (the kernel module's exports are its own front door). */
    private static boolean isInternal(final Class<?> k)
    {
        final String pkg = k.getPackageName();
        return pkg.startsWith("io.regionmm.") && !pkg.startsWith("io.regionmm.kernel") && !EXPORTED.contains(pkg);
    }

    private static Path classes() throws Exception
    {
        return Path.of(AddressSpace.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** Every class of the exported packages, from this module's class files. */
    private static Set<Class<?>> exportedTypes() throws Exception
    {
        final Path classes = classes();
        final Set<String> names = new TreeSet<>();
        for (final String pkg : EXPORTED)
        {
            try (Stream<Path> files = Files.list(classes.resolve(pkg.replace('.', '/'))))
            {
                files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".class"))
                    .forEach(n -> names.add(pkg + "." + n.substring(0, n.length() - ".class".length())));
            }
        }
        final Set<Class<?>> types = new java.util.LinkedHashSet<>();
        for (final String n : names)
        {
            types.add(Class.forName(n, false, AddressSpace.class.getClassLoader()));
        }
        assertTrue(types.size() > 10, "found the module's classes: " + types.size());
        return types;
    }
}
