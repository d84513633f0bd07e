<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-classic-to-block-menu-converter.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-classic-to-block-menu-converter.php';
