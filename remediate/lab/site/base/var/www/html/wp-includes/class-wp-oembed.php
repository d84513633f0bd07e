<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-oembed.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-oembed.php';
