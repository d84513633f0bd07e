<?php
/**
 * WordPress-like lab stub for wp-includes/fonts/class-wp-font-face-resolver.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'fonts/class-wp-font-face-resolver.php';
