<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-locale-switcher.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-locale-switcher.php';
