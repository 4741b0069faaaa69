<?php
function make_token() {
    // ruleid: pb.php.insecure-random
    $token = md5(uniqid(mt_rand(), true));
    // ruleid: pb.php.insecure-random
    $code = rand(100000, 999999);
    // ok: pb.php.insecure-random
    $secure = bin2hex(random_bytes(32));
    // ok: pb.php.insecure-random
    $otp = random_int(100000, 999999);
    return $secure;
}
