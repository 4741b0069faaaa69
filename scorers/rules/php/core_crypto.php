<?php
function fingerprint($data, $key, $iv) {
    // ruleid: pb.php.weak-hash
    $sig = md5($data);
    // ruleid: pb.php.weak-hash
    $h = hash('sha1', $data);
    // ok: pb.php.weak-hash
    $h2 = hash('sha256', $data);
    // ok: pb.php.weak-hash
    $mac = hash_hmac('sha256', $data, $key);

    // ruleid: pb.php.weak-cipher
    $c1 = openssl_encrypt($data, 'des-ede3-cbc', $key, 0, $iv);
    // ruleid: pb.php.weak-cipher
    $c2 = openssl_encrypt($data, 'AES-128-ECB', $key);
    // ruleid: pb.php.weak-cipher
    $c3 = mcrypt_encrypt(MCRYPT_RIJNDAEL_128, $key, $data, MCRYPT_MODE_ECB);
    // ok: pb.php.weak-cipher
    $c4 = openssl_encrypt($data, 'aes-256-gcm', $key, OPENSSL_RAW_DATA, $iv, $tag);
    return $sig;
}

function store_user($username, $password) {
    // ruleid: pb.php.weak-crypt
    $a = crypt($password, 'ab');
    // ok: pb.php.weak-crypt
    $b = crypt($password, '$2y$10$' . $saltvalue);
    // ruleid: pb.php.password-hash-unsalted, pb.php.weak-hash
    $hash = md5($password);
    // ruleid: pb.php.password-hash-unsalted
    $hash2 = hash('sha256', $_POST['password']);
    // ok: pb.php.password-hash-unsalted
    $hash3 = password_hash($password, PASSWORD_DEFAULT);
    return $hash3;
}
