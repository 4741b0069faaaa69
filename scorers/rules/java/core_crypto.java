import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.codec.digest.DigestUtils;
import com.google.common.hash.Hashing;

public class CoreCrypto {
    byte[] hashes(byte[] data, String s) throws Exception {
        // ruleid: pb.java.weak-message-digest
        MessageDigest md = MessageDigest.getInstance("MD5");
        // ruleid: pb.java.weak-message-digest
        MessageDigest sha = MessageDigest.getInstance("SHA-1");
        // ruleid: pb.java.weak-message-digest
        byte[] h = MessageDigest.getInstance("sha1", "BC").digest(data);
        // ruleid: pb.java.weak-message-digest
        String hex = DigestUtils.md5Hex(s);
        // ruleid: pb.java.weak-message-digest
        String g = Hashing.sha1().hashString(s, UTF_8).toString();
        // ok: pb.java.weak-message-digest
        MessageDigest good = MessageDigest.getInstance("SHA-256");
        // ok: pb.java.weak-message-digest
        String hex2 = DigestUtils.sha256Hex(s);
        return good.digest(data);
    }

    void ciphers(byte[] key) throws Exception {
        // ruleid: pb.java.weak-cipher-algorithm
        Cipher c1 = Cipher.getInstance("DES/CBC/PKCS5Padding");
        // ruleid: pb.java.weak-cipher-algorithm
        Cipher c2 = Cipher.getInstance("Blowfish/CBC/PKCS5Padding");
        // ruleid: pb.java.weak-cipher-algorithm
        KeyGenerator kg = KeyGenerator.getInstance("DES");
        // ruleid: pb.java.weak-cipher-algorithm
        SecretKeySpec sk = new SecretKeySpec(key, "RC4");
        // ok: pb.java.weak-cipher-algorithm
        KeyGenerator kg2 = KeyGenerator.getInstance("AES");
        // ruleid: pb.java.cipher-ecb-mode
        Cipher c3 = Cipher.getInstance("AES");
        // ruleid: pb.java.cipher-ecb-mode
        Cipher c4 = Cipher.getInstance("AES/ECB/PKCS5Padding");
        // ok: pb.java.cipher-ecb-mode
        Cipher c5 = Cipher.getInstance("AES/GCM/NoPadding");
        // ruleid: pb.java.rsa-without-oaep
        Cipher r1 = Cipher.getInstance("RSA");
        // ruleid: pb.java.rsa-without-oaep
        Cipher r2 = Cipher.getInstance("RSA/ECB/PKCS1Padding");
        // ok: pb.java.rsa-without-oaep
        Cipher r3 = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");
        // ruleid: pb.java.cbc-unauthenticated
        Cipher b1 = Cipher.getInstance("AES/CBC/PKCS5Padding");
        // ok: pb.java.cbc-unauthenticated
        Cipher b2 = Cipher.getInstance("AES/GCM/NoPadding", "BC");
    }

    void ivs() {
        // ruleid: pb.java.static-iv
        IvParameterSpec iv = new IvParameterSpec(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
        // ruleid: pb.java.static-iv
        IvParameterSpec iv2 = new IvParameterSpec("0123456789abcdef".getBytes());
        byte[] nonce = new byte[12];
        new SecureRandom().nextBytes(nonce);
        // ok: pb.java.static-iv
        GCMParameterSpec spec = new GCMParameterSpec(128, nonce);
    }
}
