<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-application-passwords.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-application-passwords.php';
