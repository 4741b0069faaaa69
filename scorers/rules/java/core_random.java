import java.security.SecureRandom;
import java.util.Random;

public class CoreRandom {
    private final Random random;
    private final SecureRandom sr = new SecureRandom();

    String token() {
        // ruleid: pb.java.insecure-random
        Random rnd = new Random();
        // ruleid: pb.java.insecure-random
        String nonce = "" + Math.random();
        // ruleid: pb.java.insecure-random
        return String.format("%016x", new Random().nextLong());
    }

    int roll(Random rng) {
        // ruleid: pb.java.insecure-random
        return rng.nextInt(6);
    }

    String secureToken() {
        byte[] b = new byte[32];
        // ok: pb.java.insecure-random
        sr.nextBytes(b);
        // ok: pb.java.insecure-random
        SecureRandom s2 = new SecureRandom();
        return java.util.HexFormat.of().formatHex(b);
    }
}
